"""`make mutation`: run mutmut over the pure core and print one line per module; fail under 95%.

The modules are `only_mutate` of [tool.mutmut] in pyproject.toml (one list, read by mutmut and by this
script). mutmut copies src/ to mutants/src and the unit tests import that copy; src/ is never written.
A mutant the tests cannot kill because it changes no behaviour is listed in mutation-equivalents.txt
with its reason; an entry that no longer matches its mutant (renamed, changed, or now killed) fails the
run, so the file cannot silently excuse a real survivor.

Usage: python tools/mutation.py [--changed [--base REF]] [--keep] [--max-children N] [--show N] [MODULE ...]
`--changed` (what `make test` runs) scores only the in-scope modules that differ from the base: the merge
base with origin/main, or HEAD~1 where that is HEAD itself (CI's clean checkout of main: the commit under
test, the lead's merge, is HEAD). A change to the mutation setup itself reruns every module.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "mutants"
EQUIVALENTS = ROOT / "mutation-equivalents.txt"
THRESHOLD = 95.0
# A change to any of these can move every module's score.
SETUP_FILES = ("pyproject.toml", "tools/mutation.py", "mutation-equivalents.txt")
# mutmut's exit codes per mutant (mutmut.stats.status_by_exit_code): a failing test run kills it, a
# timeout too (the tests noticed: they never finished).
KILLED = {1, 3}
TIMEOUT = {36, 24, -24, 152, 255}
SURVIVED = 0
NO_TESTS = {5, 33}


@dataclass(frozen=True)
class Equivalent:
    """One entry of the equivalents file: the mutant, the line it writes, and why it is harmless."""

    name: str
    mutated_line: str
    reason: str


@dataclass(frozen=True)
class Score:
    """A module's verdicts."""

    module: str
    killed: int
    total: int
    counts: Counter[str]

    @property
    def percent(self) -> float:
        """Killed share of the mutants that are not listed as equivalent (100 when there are none)."""
        return 100.0 * self.killed / self.total if self.total else 100.0

    def line(self) -> str:
        """`module killed/total score%` and what the rest of the mutants were."""
        detail = ", ".join(f"{name} {count}" for name, count in sorted(self.counts.items()) if count)
        return f"{self.module} {self.killed}/{self.total} {self.percent:.1f}%" + (
            f"  ({detail})" if detail else ""
        )


def in_scope_modules() -> list[str]:
    """Paths of the modules mutmut mutates, from pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return list(config["only_mutate"])


def module_name(path: str) -> str:
    """src/iam_inventory/core/redact.py -> iam_inventory.core.redact (mutmut's mutant name prefix)."""
    return Path(path).relative_to("src").with_suffix("").as_posix().replace("/", ".")


def git(*args: str) -> str | None:
    """stdout of a git command in the repository, or None when it fails."""
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603, S607
    return done.stdout.strip() if done.returncode == 0 else None


def default_base() -> str | None:
    """The merge base with origin/main; HEAD~1 when that is HEAD itself or unknown; None without history."""
    head = git("rev-parse", "HEAD")
    base = git("merge-base", "HEAD", "origin/main")
    if base and base != head:
        return base
    return git("rev-parse", "--verify", "--quiet", "HEAD~1")


def changed_modules(base: str, scope: list[str]) -> list[str]:
    """In-scope modules that differ from `base` (committed or not); all of them if the setup changed."""
    listing = git("diff", "--name-only", base)
    if listing is None:
        raise SystemExit(f"mutation: git diff against {base} failed")
    changed = set(listing.splitlines())
    if changed & set(SETUP_FILES):
        return scope
    return [path for path in scope if path in changed]


def read_equivalents(path: Path = EQUIVALENTS) -> dict[str, Equivalent]:
    """Entries `mutant name | mutated line | reason`; '#' starts a comment line."""
    entries: dict[str, Equivalent] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        parts = [part.strip() for part in raw.split(" | ")]
        if len(parts) != 3 or not all(parts):
            raise SystemExit(f"{path.name}:{number}: expected 'mutant name | mutated line | reason'")
        entries[parts[0]] = Equivalent(*parts)
    return entries


def run_mutmut(modules: list[str], max_children: int, keep: bool) -> None:
    """mutmut run over `modules` (all in-scope ones when every one is asked), output to mutants/mutmut.log."""
    if not keep:
        shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(exist_ok=True)
    selection = [] if modules == in_scope_modules() else [f"{module_name(path)}.*" for path in modules]
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children), *selection]
    log = WORK / "mutmut.log"
    with log.open("w") as out:
        # the command is this interpreter and fixed arguments, no shell
        done = subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=False)  # noqa: S603
    if done.returncode != 0:
        print(log.read_text()[-3000:], file=sys.stderr)
        raise SystemExit(f"mutation: mutmut run failed (exit {done.returncode}); full output in {log}")


def verdicts(path: str) -> dict[str, int | None]:
    """Exit code per mutant of one module, as mutmut recorded it."""
    meta = WORK / f"{path}.meta"
    if not meta.is_file():
        raise SystemExit(f"mutation: no results for {path} (was it mutated?)")
    return json.loads(meta.read_text())["exit_code_by_key"]


def mutated_line(name: str, path: str) -> str:
    """The first line the mutant adds, as mutmut's diff shows it."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        diff = get_diff_for_mutant(name, path=WORK / path)
    finally:
        os.chdir(cwd)
    added = [
        line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("++")
    ]
    return added[0] if added else ""


def score(
    path: str, equivalents: dict[str, Equivalent], problems: list[str]
) -> tuple[Score, list[tuple[str, str]]]:
    """The module's score and its unkilled mutants (name, verdict); stale equivalents go to `problems`."""
    counts: Counter[str] = Counter()
    survivors = []
    killed = total = 0
    for name, code in verdicts(path).items():
        entry = equivalents.get(name)
        if entry is not None:
            line = mutated_line(name, path)
            if code != SURVIVED:
                problems.append(f"{name} is listed as equivalent but the tests kill it: remove the entry")
            elif line != entry.mutated_line:
                problems.append(f"{name} now writes {line!r}, not {entry.mutated_line!r}: re-check the entry")
            counts["equivalent"] += 1
            continue
        total += 1
        if code in KILLED or code in TIMEOUT:
            killed += 1
            counts["timeout"] += code in TIMEOUT
            continue
        verdict = "survived" if code == SURVIVED else "no tests" if code in NO_TESTS else f"exit {code}"
        counts[verdict] += 1
        survivors.append((name, verdict))
    return Score(module_name(path), killed, total, counts), survivors


def main(argv: list[str] | None = None) -> int:
    """Run, score, print; 1 when a module is under the threshold or the equivalents file is stale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="in-scope module paths (default: all of them)")
    parser.add_argument("--changed", action="store_true", help="only the modules changed since the base")
    parser.add_argument("--base", help="with --changed: the git revision to compare with")
    parser.add_argument("--keep", action="store_true", help="reuse mutants/ (mutmut reruns what changed)")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--show", type=int, default=20, help="diffs of at most this many survivors")
    args = parser.parse_args(argv)
    scope = in_scope_modules()
    missing = [path for path in scope if not (ROOT / path).is_file()]
    if missing:
        print(
            f"mutation: [tool.mutmut] only_mutate names missing files: {', '.join(missing)}", file=sys.stderr
        )
        return 2
    unknown = [path for path in args.modules if path not in scope]
    if unknown:
        print(f"mutation: not in [tool.mutmut] only_mutate: {', '.join(unknown)}", file=sys.stderr)
        return 2
    modules = [path for path in scope if path in args.modules] if args.modules else scope
    if args.changed:
        base = args.base or default_base()
        if base is None:
            print("mutation: no base revision to compare with; running every module")
        else:
            changed = changed_modules(base, scope)
            modules = [path for path in modules if path in changed]
            print(f"mutation: {len(modules)} of {len(scope)} in-scope modules changed since {base[:12]}")
            if not modules:
                return 0
    equivalents = read_equivalents()
    run_mutmut(modules, args.max_children, args.keep)
    problems: list[str] = []
    failed = False
    shown = 0
    for path in modules:
        result, survivors = score(path, equivalents, problems)
        print(result.line())
        failed |= result.percent < THRESHOLD
        for name, verdict in survivors[: max(0, args.show - shown)]:
            print(f"  {verdict}: {name}  ({mutated_line(name, path)})")
            shown += 1
    for problem in problems:
        print(f"mutation-equivalents.txt: {problem}")
    if failed:
        print(
            f"mutation: a module scores under {THRESHOLD:.0f}%; `.venv/bin/mutmut show NAME` shows a mutant"
        )
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
