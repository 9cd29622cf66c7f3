"""bibmon_surveys."""
