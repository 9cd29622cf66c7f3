"""HTTP entrypoints of the responses service."""
