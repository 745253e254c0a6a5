"""Change tracking: this run against the baseline's comparison state (new, resolved, carried over)."""
