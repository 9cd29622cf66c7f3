"""bibmon_responses."""
