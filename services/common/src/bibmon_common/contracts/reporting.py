"""Messages produced by the reporting service (none yet; the catalogue grows with issue 3 on)."""
