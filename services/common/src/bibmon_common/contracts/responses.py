"""Messages produced by the responses service (none yet; the catalogue grows with issue 3 on)."""
