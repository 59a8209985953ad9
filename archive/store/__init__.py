"""The archive's storage: its home, database, schema and migrations, WARC files, writer,
ledger and recovery."""
