"""The documented Athena queries parse as Athena SQL and name only columns the Glue tables have."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from tests.outputs_support import glue_columns

ROOT = Path(__file__).resolve().parents[2]
# Wherever the documentation keeps the queries: the README and every page under docs/.
DOCUMENTS = (ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")))
TABLES = {name: {**glue_columns(name), "dt": "string"} for name in ("findings", "inventory")}


def documented_queries() -> list[str]:
    queries: list[str] = []
    for document in DOCUMENTS:
        blocks = re.findall(r"```sql\n(.*?)```", document.read_text(), re.S)
        queries += [block for block in blocks if "iam_inventory." in block and block not in queries]
    return queries


def test_at_least_five_queries_are_documented():
    assert len(documented_queries()) >= 5


@pytest.mark.parametrize("query", documented_queries(), ids=lambda q: q.split("\n")[-4][:40])
def test_query_parses_and_uses_only_existing_columns(query):
    # Given the query parsed in Athena's dialect
    tree = sqlglot.parse_one(query, read="athena")
    # When every table alias is resolved to the Glue table it stands for
    aliases = {}
    for table in tree.find_all(exp.Table):
        if table.name in TABLES:
            aliases[table.alias_or_name] = table.name
    assert aliases, "the query reads no iam_inventory table"
    outputs = {alias.alias for alias in tree.find_all(exp.Alias)}
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    # Then each qualified column exists in its table, and each bare one in a table it reads or an alias
    for column in tree.find_all(exp.Column):
        if column.table in aliases:
            assert column.name in TABLES[aliases[column.table]], f"{column.table}.{column.name}"
        elif column.table in ctes:
            continue
        else:
            known = set().union(*(TABLES[name] for name in aliases.values())) | outputs
            assert column.name in known, column.name
