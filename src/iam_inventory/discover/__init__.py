"""Stage: discover."""
