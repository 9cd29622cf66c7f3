"""bibmon_reporting."""
