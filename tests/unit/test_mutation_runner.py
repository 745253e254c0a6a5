"""tools/mutation.py: the equivalents file is parsed strictly and a stale entry fails the run."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("mutation_runner", ROOT / "tools" / "mutation.py")
assert _spec
assert _spec.loader
runner = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = runner  # dataclasses look their module up there
_spec.loader.exec_module(runner)

MODULE = "src/iam_inventory/core/redact.py"


def test_in_scope_modules_exist_and_name_the_mutants_prefix():
    modules = runner.in_scope_modules()
    assert MODULE in modules
    assert all((ROOT / path).is_file() for path in modules)
    assert runner.module_name(MODULE) == "iam_inventory.core.redact"


def test_equivalents_file_entries_are_name_line_and_reason(tmp_path):
    path = tmp_path / "equivalents.txt"
    path.write_text("# comment\n\na.x_f__mutmut_1 | x = None | the value is never read\n")
    assert runner.read_equivalents(path) == {
        "a.x_f__mutmut_1": runner.Equivalent("a.x_f__mutmut_1", "x = None", "the value is never read")
    }
    path.write_text("a.x_f__mutmut_1 | x = None\n")
    with pytest.raises(
        SystemExit, match=r"equivalents.txt:1: expected 'mutant name \| mutated line \| reason'"
    ):
        runner.read_equivalents(path)


def test_the_checked_in_equivalents_file_parses():
    assert all(entry.reason for entry in runner.read_equivalents().values())


@pytest.fixture
def results(tmp_path, monkeypatch):
    """A mutants/ directory holding mutmut's verdicts for one module; every mutant writes 'x = None'."""
    monkeypatch.setattr(runner, "WORK", tmp_path)
    monkeypatch.setattr(runner, "mutated_line", lambda name, path: "x = None")
    meta = tmp_path / f"{MODULE}.meta"
    meta.parent.mkdir(parents=True)
    prefix = "iam_inventory.core.redact.x_f__mutmut_"
    codes = {f"{prefix}1": 1, f"{prefix}2": 0, f"{prefix}3": 33, f"{prefix}4": 36, f"{prefix}5": 0}
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    return prefix


def test_score_counts_timeouts_as_killed_and_leaves_out_equivalents(results):
    equivalents = {f"{results}5": runner.Equivalent(f"{results}5", "x = None", "never read")}
    problems: list[str] = []
    score, unkilled = runner.score(MODULE, equivalents, problems)
    assert (score.killed, score.total, problems) == (2, 4, [])
    assert unkilled == [(f"{results}2", "survived"), (f"{results}3", "no tests")]
    assert score.line() == (
        "iam_inventory.core.redact 2/4 50.0%  (equivalent 1, no tests 1, survived 1, timeout 1)"
    )
    assert runner.Score("m", 0, 0, Counter()).line() == "m 0/0 100.0%"


def test_stale_equivalents_are_problems(results):
    equivalents = {
        f"{results}1": runner.Equivalent(f"{results}1", "x = None", "said equivalent, but killed"),
        f"{results}2": runner.Equivalent(f"{results}2", "x = 0", "the code changed since"),
    }
    problems: list[str] = []
    runner.score(MODULE, equivalents, problems)
    assert problems == [
        f"{results}1 is listed as equivalent but the tests kill it: remove the entry",
        f"{results}2 now writes 'x = None', not 'x = 0': re-check the entry",
    ]


SCOPE = ["src/iam_inventory/evaluate/rules.py", MODULE]


@pytest.mark.parametrize(
    ("diff", "expected"),
    [
        ("README.md\nsrc/iam_inventory/core/redact.py\ntests/unit/test_redact.py", [MODULE]),
        ("README.md\nsrc/iam_inventory/core/clock.py", []),
        # the mutation setup itself changed: every module is scored again
        ("mutation-equivalents.txt", SCOPE),
        ("pyproject.toml", SCOPE),
    ],
)
def test_changed_modules_are_the_in_scope_files_the_diff_names(monkeypatch, diff, expected):
    asked = []
    monkeypatch.setattr(runner, "git", lambda *args: asked.append(args) or diff)
    assert runner.changed_modules("abc123", SCOPE) == expected
    assert asked == [("diff", "--name-only", "abc123")]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # a branch: the merge base with origin/main
        ({"rev-parse HEAD": "h", "merge-base HEAD origin/main": "m"}, "m"),
        # CI's clean checkout of main: the merge base is HEAD, so the commit under test is HEAD~1..HEAD
        (
            {
                "rev-parse HEAD": "h",
                "merge-base HEAD origin/main": "h",
                "rev-parse --verify --quiet HEAD~1": "p",
            },
            "p",
        ),
        ({"rev-parse HEAD": "h", "rev-parse --verify --quiet HEAD~1": "p"}, "p"),
        # a single commit (or a shallow clone): no base, so everything runs
        ({"rev-parse HEAD": "h"}, None),
    ],
)
def test_default_base(monkeypatch, answers, expected):
    monkeypatch.setattr(runner, "git", lambda *args: answers.get(" ".join(args)))
    assert runner.default_base() == expected


def test_main_prints_one_line_per_module_and_its_unkilled_mutants_and_fails_under_95(
    results, monkeypatch, capsys
):
    # Given mutmut's verdicts for one module: 2 of 5 killed (a timeout included), none listed as equivalent
    monkeypatch.setattr(runner, "run_mutmut", lambda modules, max_children, keep: None)
    monkeypatch.setattr(runner, "read_equivalents", lambda: {})
    # When the runner scores that module
    code = runner.main([MODULE])
    # Then it prints the score line, then each unkilled mutant with the line it writes, and fails
    assert capsys.readouterr().out.splitlines() == [
        "iam_inventory.core.redact 2/5 40.0%  (no tests 1, survived 2, timeout 1)",
        f"  survived: {results}2  (x = None)",
        f"  no tests: {results}3  (x = None)",
        f"  survived: {results}5  (x = None)",
        "mutation: a module scores under 95%; `.venv/bin/mutmut show NAME` shows a mutant",
    ]
    assert code == 1


def test_main_refuses_a_module_out_of_scope(capsys):
    assert runner.main(["src/iam_inventory/core/clock.py"]) == 2
    assert (
        capsys.readouterr().err
        == "mutation: not in [tool.mutmut] only_mutate: src/iam_inventory/core/clock.py\n"
    )
