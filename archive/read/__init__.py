"""Reading the archive: queries, search, exports, the report and browsing."""
