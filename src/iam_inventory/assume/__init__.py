"""Stage: assume."""
