"""The command-line interface (not part of any Lambda function)."""
