"""The report's JSON Schema, shipped with the package, and a validator for it."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def report_schema() -> dict[str, Any]:
    """The committed JSON Schema of report.json."""
    schema: dict[str, Any] = json.loads(
        files("iam_inventory").joinpath("schemas/report.schema.json").read_text()
    )
    return schema


def report_schema_errors(report: dict[str, Any]) -> list[str]:
    """Every way `report` departs from the schema (empty when valid); needs the `jsonschema` dev extra."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(report_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator.iter_errors(report)
    ]
