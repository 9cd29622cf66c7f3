"""Messages produced by the surveys service (none yet; the catalogue grows with issue 3 on)."""
