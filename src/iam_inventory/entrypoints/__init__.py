"""Stage: entrypoints."""
