"""bibmon_common."""
