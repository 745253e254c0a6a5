"""Stage: config."""
