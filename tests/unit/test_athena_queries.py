"""The documented Athena queries: they parse, name only Glue columns, and see committed runs only.

The second half runs each query (sqlglot's Python executor) over what real finalized runs wrote,
read the way Athena reads it: `runs` rows, and `findings`/`inventory` rows of the JSONL files that
the commit manifests name (SymlinkTextInputFormat), with `dt` from the partition path.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.executor import env as executor_env
from sqlglot.executor import execute

from iam_inventory.models import AccountStatus, Thresholds
from iam_inventory.models.credentials import ServiceCredential
from iam_inventory.pipeline.location import ReportLocation
from iam_inventory.publish.spool import ReportFile
from tests.builders import days_ago, make_key, make_user
from tests.outputs_support import glue_columns
from tests.publish_support import context, finalize, scanned, unscanned

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "report-format.md"
TABLES = {name: {**glue_columns(name), "dt": "string"} for name in ("findings", "inventory", "runs")}
BUCKET = "reports"


def documented_queries() -> list[str]:
    blocks = re.findall(r"```sql\n(.*?)```", DOCUMENT.read_text(), re.S)
    return [block for block in blocks if "iam_inventory." in block]


def query_id(query: str) -> str:
    return re.sub(r"\s+", " ", query)[-60:]


def test_at_least_five_queries_are_documented():
    assert len(documented_queries()) >= 5


@pytest.mark.parametrize("query", documented_queries(), ids=query_id)
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
    # And a query that reads findings or inventory also reads the committed runs
    if {"findings", "inventory"} & set(aliases.values()):
        assert "runs" in aliases.values(), "rows of uncommitted runs would be counted"


@dataclass
class MemoryBucket:
    """The report bucket as a dict: the sink and the store of a finalize run."""

    objects: dict[str, bytes] = field(default_factory=dict)
    refuse: str | None = None  # a key fragment whose write fails, as a crash at that point would

    def write(self, file: ReportFile) -> str:
        if self.refuse and self.refuse in file.key:
            raise OSError(f"simulated crash before writing {file.key}")
        self.objects[file.key] = file.body.reader().read()
        return f"s3://{BUCKET}/iam-inventory/{file.key}"

    def open(self, key: str):
        body = self.objects.get(key)
        return None if body is None else io.BytesIO(body)


def athena_tables(bucket: MemoryBucket) -> dict[str, list[dict]]:
    """What Athena's tables hold: runs rows, and the JSONL rows the manifests name."""
    base = f"s3://{BUCKET}/iam-inventory/"
    tables: dict[str, list[dict]] = {"runs": [], "findings": [], "inventory": []}
    for key, body in sorted(bucket.objects.items()):
        match = re.fullmatch(r"athena/(\w+)/dt=([\d-]+)/[^/]+\.(json|manifest)", key)
        if not match:
            continue
        table, day, kind = match.groups()
        if kind == "json":
            tables[table] += [{**json.loads(line), "dt": day} for line in body.decode().splitlines()]
            continue
        for location in body.decode().split():
            data = bucket.objects[location.removeprefix(base)].decode()
            tables[table] += [{**json.loads(line), "dt": day} for line in data.splitlines()]
    return tables


def run_query(query: str, tables: dict[str, list[dict]], today: date) -> list[tuple]:
    tree = sqlglot.parse_one(query, read="athena")
    # current_date is the day of the last run; element_at on a map is Athena's null-safe lookup.
    tree = tree.transform(lambda node: _executable(node, today))
    return execute(tree, tables={"iam_inventory": tables}).rows


def _executable(node: exp.Expression, today: date) -> exp.Expression:
    if isinstance(node, exp.CurrentDate):
        return exp.Cast(this=exp.Literal.string(today.isoformat()), to=exp.DataType.build("date"))
    if isinstance(node, exp.Bracket):
        # sqlglot reads element_at(map, key) as a subscript; Athena's element_at is null when absent.
        return exp.Anonymous(this="ELEMENT_AT", expressions=[node.this, *node.expressions])
    return node


@pytest.fixture
def bucket(tmp_path, monkeypatch):
    memory = MemoryBucket()
    monkeypatch.setattr(ReportLocation, "sinks", lambda self: [memory])
    monkeypatch.setattr(ReportLocation, "run_store", lambda self: memory)
    monkeypatch.setitem(executor_env.ENV, "ELEMENT_AT", lambda mapping, key: (mapping or {}).get(key))
    return memory


PROD, DEV = "111111111111", "222222222222"


BEDROCK_KEY = "ACCAPRODBEDROCK00001"


def estate(age: int, run=None):
    deployer = replace(
        make_user("deployer", keys=(make_key("AKIAPROD000000000001", age=age, used=None),)),
        # A Bedrock API key created with no expiry, and an expired CloudWatch Logs key.
        service_credentials=(
            ServiceCredential(BEDROCK_KEY, "bedrock.amazonaws.com", "deployer-at-1", "Active", days_ago(age)),
            ServiceCredential(
                "ACCAPRODLOGS00000001",
                "logs.amazonaws.com",
                "deployer-at-2",
                "Expired",
                days_ago(age),
                days_ago(1),
            ),
        ),
    )
    return [
        scanned(PROD, deployer, run=run),
        scanned(DEV, make_user("ci", keys=(make_key("AKIADEV0000000000001", age=age, used=60),)), run=run),
    ]


def test_only_committed_baseline_runs_are_current_in_the_documented_queries(tmp_path, bucket):
    env = {"REPORT_BUCKET": BUCKET}
    # Given a good scheduled run with keys a little over a year old
    finalize(tmp_path, context("good"), estate(400), **env)
    # And, the next day, a manual run with stricter thresholds, and a failed scheduled run
    strict = context("manual", 1, "manual", Thresholds(max_key_age_days=30), overrides=("thresholds",))
    finalize(tmp_path, strict, estate(400, strict), **env)
    failing = [
        unscanned(PROD, AccountStatus.FAILED, "AccessDenied"),
        unscanned(DEV, AccountStatus.FAILED, "X"),
    ]
    finalize(tmp_path, context("failed", 1), failing, **env)
    # And a scheduled run with different keys that stops after its files, before its commit
    bucket.refuse = "athena/"
    with pytest.raises(OSError, match="simulated crash"):
        finalize(tmp_path, context("crashed", 2), estate(800), **env)
    assert "runs/dt=2026-11-25/crashed/findings.jsonl" in bucket.objects
    tables = athena_tables(bucket)
    assert {row["run_id"] for row in tables["runs"]} == {"good", "manual", "failed"}
    # When every documented query runs over the tables as of the crashed run's day
    results = {
        query_id(query): run_query(query, tables, date(2026, 11, 25)) for query in documented_queries()
    }
    # Then the current-run queries answer from the good run alone
    stale, old_keys, by_owner, new, trend, runs, never_expiring, by_type = results.values()
    assert stale == [(PROD, f"acct-{PROD[:3]}", 1), (DEV, f"acct-{DEV[:3]}", 1)]
    assert [(row[0], row[3]) for row in old_keys] == [(PROD, 400), (DEV, 400)]
    # And the API key query finds the good run's never-expiring Bedrock key, not the expired Logs key
    assert [(row[0], row[1], row[2], row[3]) for row in never_expiring] == [
        (PROD, "deployer", BEDROCK_KEY, "bedrock.amazonaws.com")
    ]
    # And the count by type is the good run's: two keys, one active and one expired service credential
    assert by_type == [
        ("access_key", "Active", 2),
        ("service_credential", "Active", 1),
        ("service_credential", "Expired", 1),
    ]
    assert sum(row[2] for row in by_owner) == len([f for f in tables["findings"] if f["run_id"] == "good"])
    assert {row[0] for row in new} == {f["finding_id"] for f in tables["findings"] if f["run_id"] == "good"}
    # And the trend holds the baseline run only, the run list every committed run, never the crashed one
    assert {row[1] for row in trend} == {"good"}
    assert [(row[0], row[2], row[4]) for row in runs] == [
        ("failed", "failed", False),
        ("manual", "complete", False),
        ("good", "complete", True),
    ]
