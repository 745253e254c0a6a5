"""Pure formatters: a run's files rendered one account at a time (report.json, CSV, JSON Lines, HTML)."""
