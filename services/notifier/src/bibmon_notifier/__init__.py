"""bibmon_notifier."""
