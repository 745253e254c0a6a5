"""Renderers of a report for people and tools: the HTML page and the Athena JSON Lines."""
