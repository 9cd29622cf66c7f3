"""bibmon_identity."""
