"""Local replica of www.chalco.com.cn (and of a member site of the 中铝网站群) for crawling
tests: generated sites (replica.site, served by replica.server) and a hostile fault site
(replica.faults)."""
