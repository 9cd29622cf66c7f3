"""HTTP entrypoints of the surveys service."""
