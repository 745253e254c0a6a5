"""Stage: core."""
