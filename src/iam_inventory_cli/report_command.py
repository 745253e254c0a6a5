"""`iam-inventory report`: re-render a saved report.json, validated against its JSON Schema."""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from iam_inventory.core.errors import IamInventoryError
from iam_inventory.publish.document import render_findings_csv, render_inventory_csv
from iam_inventory.publish.render.schema import report_schema_errors
from iam_inventory_cli.checks import summarise
from iam_inventory_cli.tables import (
    EXIT_OK,
    render_summary_table,
)


class InvalidReport(IamInventoryError, ValueError):
    """A file given to `report` is not a readable iam-inventory report."""


def load_report(path: Path) -> dict[str, Any]:
    """A saved report.json, checked to be a 1.x iam-inventory report."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidReport(f"report file {path}: not UTF-8 text (byte {error.start})") from None
    except (OSError, json.JSONDecodeError) as error:
        raise InvalidReport(f"report file {path}: {error}") from None
    required = ("schema_version", "run", "summary", "accounts", "inventory", "findings")
    if not isinstance(report, dict) or any(key not in report for key in required):
        raise InvalidReport(f"report file {path}: not an iam-inventory report (needs {', '.join(required)})")
    if not str(report["schema_version"]).startswith("1."):
        raise InvalidReport(
            f"report file {path}: schema_version {str(report['schema_version'])[:20]!r} is not supported "
            "(1.x only)"
        )
    problems = report_schema_errors(report)
    if problems:
        raise InvalidReport(
            f"report file {path}: does not match the report schema: {summarise(problems, shown=2)}"
        )
    return report


def command_report(args: argparse.Namespace, out: TextIO) -> int:
    """`iam-inventory report REPORT`."""
    from iam_inventory.publish.render.html import render_html

    report = load_report(args.report)
    history_path = args.report.parent / "history.json"
    history: list[dict[str, Any]] = []
    if history_path.is_file():
        with contextlib.suppress(json.JSONDecodeError, AttributeError):
            history = list(json.loads(history_path.read_text()).get("runs", []))
    # Each file is rendered at most once, whether it goes to --out, to stdout, or to both.
    renderers: dict[str, Callable[[], bytes]] = {
        "findings.csv": functools.cache(lambda: render_findings_csv(report)),
        "inventory.csv": functools.cache(lambda: render_inventory_csv(report)),
        "index.html": functools.cache(lambda: render_html(report, history, args.console_role)),
    }
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, render in renderers.items():
            (args.out / name).write_bytes(render())
    if args.format == "json":
        print(json.dumps(report, indent=2, ensure_ascii=False), file=out)
    elif args.format == "csv":
        out.write(renderers["findings.csv"]().decode())
    elif args.format == "inventory-csv":
        out.write(renderers["inventory.csv"]().decode())
    elif args.format == "html":
        out.write(renderers["index.html"]().decode())
    else:
        out.write(render_summary_table(report))
        if args.out is not None:
            for name in renderers:
                print(f"wrote {args.out / name}", file=out)
    return EXIT_OK
