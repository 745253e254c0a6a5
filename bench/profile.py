"""`--profile DIR`: each iam-inventory run sampled by py-spy, every thread, while it holds the GIL.

`py-spy record --gil` keeps only the samples of the thread holding the GIL, in whichever thread that is:
the process's CPU in Python, across the pool's threads. `--nonblocking` reads the process without
pausing it; on a 2-core machine with a hundred threads, pausing them all per sample slowed a 70 s run
to 9 minutes. Each run leaves DIR/<size>-<run>.txt (collapsed stacks, for flame graph tools) and
DIR/<size>-<run>.top.txt: the functions with the largest inclusive share of the samples.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections import Counter
from pathlib import Path

RATE = 47  # samples per second: prime, so the sampling does not beat with the latency's timers
TOP = 40
# py-spy names a frame "function (file.py:line)": the line is dropped, so a function counts as one.
_LINE = re.compile(r":\d+\)$")


def py_spy() -> str:
    """The py-spy next to this Python (the dev install), else on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy (it is in the dev extra)")
    return found


def profiled_command(command: list[str], stem: Path) -> list[str]:
    """`command` under py-spy, writing collapsed stacks to stem.txt."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    return [
        py_spy(), "record", "--gil", "--nonblocking", "--rate", str(RATE), "--format", "raw",
        "--output", f"{stem}.txt", "--", *command,
    ]  # fmt: skip


def summarize(stem: Path) -> str:
    """The top functions by inclusive share of samples, written to stem.top.txt and returned."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in Path(f"{stem}.txt").read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        # A frame counts once per sample however often it recurs in the stack.
        for frame in {_LINE.sub(")", frame) for frame in stack.split(";")}:
            inclusive[frame] += samples
    lines = [f"{stem.name}: {total} samples under the GIL at {RATE}/s; inclusive share, top {TOP}"]
    lines += [f"{100 * n / max(1, total):5.1f} %  {frame}" for frame, n in inclusive.most_common(TOP)]
    text = "\n".join(lines)
    Path(f"{stem}.top.txt").write_text(text + "\n")
    return text
