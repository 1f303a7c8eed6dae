"""Pool discovery: from the factories' creation logs, or from an explicit list."""
