"""Stage: collect."""
