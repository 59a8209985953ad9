"""Scrapy project that walks the news sections of Chalco's sites and fetches every page."""
