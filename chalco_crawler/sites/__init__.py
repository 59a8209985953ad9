"""Bundled site profiles (TOML data files)."""
