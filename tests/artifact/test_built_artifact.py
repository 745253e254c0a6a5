"""The Lambda artifact `sam build` made (.aws-sam/build): lean, shared, and working under python3.13.

`make test` builds it first (make sam-build). These tests skip only when there is no build AND
SKIP_SAM_BUILD=1 was set on purpose; a missing build otherwise fails, so CI cannot pass without one.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import platform
import subprocess
from pathlib import Path

import pytest

from iam_inventory_cli.simulated import SIMULATED_ACCOUNTS, simulated_estate
from tests.builders import NOW

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".aws-sam" / "build"
LAYER = BUILD / "DependenciesLayer" / "python"
# Native extensions built for the runtime's arm64; on another host `make smoke` installs the same
# versions for the host here, and only those are laid over the layer.
HOST_NATIVE = ROOT / ".aws-sam" / "host-native"
FUNCTIONS = ("InventoryFunction", "FanoutDiscoverFunction", "FanoutWorkerFunction", "FanoutFinalizeFunction")
FORBIDDEN = ("moto", "tqdm", "iam_inventory_sim", "iam_inventory_cli")
# The CLI's `report` validates with jsonschema (render/schema.py imports it lazily); Lambda never does.
NOT_PACKAGED = (*FORBIDDEN, "jsonschema")


@pytest.fixture(scope="module", autouse=True)
def _built() -> None:
    if not BUILD.is_dir():
        if os.environ.get("SKIP_SAM_BUILD") == "1":
            pytest.skip("no .aws-sam/build and SKIP_SAM_BUILD=1: the Lambda artifact was not built")
        pytest.fail("no .aws-sam/build: run `make sam-build` (or set SKIP_SAM_BUILD=1 to skip on purpose)")


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module a Python file imports (absolute imports only)."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def test_nothing_in_the_build_imports_dev_only_code():
    # Given every Python file of the four functions and the dependencies layer
    files = [path for path in BUILD.rglob("*.py") if "__pycache__" not in path.parts]
    assert len(files) > 100
    # When their imports are read
    offenders = {
        str(path.relative_to(BUILD)): sorted(imported_modules(path) & set(FORBIDDEN)) for path in files
    }
    # Then none imports the simulator, the CLI, moto or tqdm, and none of those (nor jsonschema) is packaged
    assert {path: names for path, names in offenders.items() if names} == {}
    packaged = {
        path.name.split("-")[0].lower()
        for root in (LAYER, *(BUILD / f for f in FUNCTIONS))
        for path in root.iterdir()
    }
    assert packaged & set(NOT_PACKAGED) == set()


def test_the_four_functions_share_one_code_asset_holding_only_the_runtime_package():
    digests = {name: tree_digest(BUILD / name) for name in FUNCTIONS}
    assert len(set(digests.values())) == 1, digests
    assert sorted(path.name for path in (BUILD / "InventoryFunction").iterdir()) == ["iam_inventory"]
    code_bytes = sum(
        path.stat().st_size for path in (BUILD / "InventoryFunction").rglob("*") if path.is_file()
    )
    assert code_bytes < 2_000_000


def python313() -> str:
    found = subprocess.run([ROOT / "scripts" / "python313.sh"], capture_output=True, text=True)
    if found.returncode != 0:
        pytest.fail(found.stderr.strip())
    return found.stdout.strip()


_HANDLER = """
import json, sys
from dataclasses import dataclass
from iam_inventory.entrypoints.handlers import lambda_handler

@dataclass
class Context:
    function_name: str = "iam-inventory"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:iam-inventory"
    aws_request_id: str = "smoke-test"
    def get_remaining_time_in_millis(self) -> int:
        return 900_000

summary = lambda_handler(json.load(open(sys.argv[1])), Context())
print("SUMMARY " + json.dumps(summary))
"""


def test_built_handler_runs_the_scheduled_event_under_python313_against_the_simulator():
    # Given the seeded simulator (served from this process) and only the built code + layer on the path
    interpreter = python313()
    path = [str(BUILD / "InventoryFunction"), str(LAYER)]
    if platform.machine() not in ("aarch64", "arm64"):
        assert HOST_NATIVE.is_dir(), "run `make smoke`: it installs the host's pydantic-core/wrapt builds"
        assert sorted(p.name.split("-")[0] for p in HOST_NATIVE.glob("*.dist-info")) == [
            "pydantic_core",
            "wrapt",
        ]
        path.insert(0, str(HOST_NATIVE))
    with simulated_estate(NOW) as variables:
        env = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": os.pathsep.join(path),
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",  # leave the build as sam made it
            "AWS_LAMBDA_FUNCTION_NAME": "iam-inventory",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            **variables,
        }
        # When the handler runs with the scheduled event, isolated from the dev virtualenv (-I -S)
        completed = subprocess.run(
            [interpreter, "-S", "-c", _HANDLER, str(ROOT / "events" / "scheduled.json")],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            cwd="/",
        )
    # Then it imported from the build only and scanned every seeded account
    assert completed.returncode == 0, completed.stderr[-3000:]
    line = next(line for line in completed.stdout.splitlines() if line.startswith("SUMMARY "))
    summary = json.loads(line.removeprefix("SUMMARY "))
    assert summary["run_id"] == "20261123T060000Z-scheduled"
    n = len(SIMULATED_ACCOUNTS)
    assert summary["accounts"] == {"expected": n, "scanned": n, "failed": 0, "skipped": 0, "not_scanned": 0}
    assert summary["findings"]["by_rule"]["root_access_key_present"] == 1
