"""Row 1: how long generation takes, from scratch and as a no-op ``make generate``.

The no-op is timed in a throw-away copy of the build inputs (Makefile, spec, generator,
generated, with ``.venv`` linked), so the harness never rewrites the shared ``generated/``
folder: the Makefile sees the same files and timestamps there as in the work tree.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness import PYTHON, ROOT, Row, median, run_checked, wall_time

SCRATCH_TARGET_S = 5.0
NOOP_TARGET_S = 0.5
ROUNDS = 7
TIME_BUDGET_S = 40.0

COPIED = ["Makefile", "pyproject.toml", "requirements-dev.txt", "spec", "generator", "generated"]
LINKED = [".venv"]


@dataclass
class GenerationTimes:
    scratch_s: list[float]
    noop_s: list[float]

    def rows(self) -> list[Row]:
        scratch, noop = median(self.scratch_s), median(self.noop_s)
        return [
            Row(
                "1 generation",
                "generate.py from scratch (wall)",
                f"{scratch:.2f} s",
                f"<= {SCRATCH_TARGET_S:.1f} s",
                scratch <= SCRATCH_TARGET_S,
            ),
            Row(
                "1 generation",
                "no-op `make -s generate` (wall)",
                f"{noop * 1000:.0f} ms",
                f"<= {NOOP_TARGET_S * 1000:.0f} ms",
                noop <= NOOP_TARGET_S,
            ),
        ]

    def raw(self) -> list[str]:
        return [
            "generation from scratch, s: " + ", ".join(f"{t:.3f}" for t in self.scratch_s),
            "no-op make generate, s:     " + ", ".join(f"{t:.3f}" for t in self.noop_s),
        ]


def _copy_build_inputs(into: Path) -> None:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__", ".mypy_cache"))
        else:
            shutil.copy2(source, into / name)  # copy2 keeps mtimes, which is what make compares
    for name in LINKED:
        (into / name).symlink_to(ROOT / name)


def _generate_from_scratch(workdir: Path, turn: int) -> float:
    out = workdir / f"scratch-{turn}" / "sinch_calling"
    seconds = wall_time(lambda: run_checked([PYTHON, "generator/generate.py", "--out", str(out)]))
    shutil.rmtree(out.parent)
    return seconds


def _make_noop(tree: Path) -> float:
    return wall_time(lambda: run_checked(["make", "-s", "generate"], cwd=tree))


def measure() -> GenerationTimes:
    times = GenerationTimes([], [])
    with tempfile.TemporaryDirectory(prefix="sinch-bench-gen-") as tmp:
        workdir = Path(tmp)
        tree = workdir / "tree"
        tree.mkdir()
        _copy_build_inputs(tree)
        run_checked(["make", "-s", "generate"], cwd=tree)  # settle: regenerates once if anything is stale
        if subprocess.run(["make", "-q", "generate"], cwd=tree, capture_output=True, check=False).returncode != 0:
            raise RuntimeError("`make generate` still has work to do after one run: it is never a no-op")
        deadline = time.monotonic() + TIME_BUDGET_S
        for turn in range(ROUNDS):  # alternate the two kinds of run so that noise hits both alike
            times.scratch_s.append(_generate_from_scratch(workdir, turn))
            times.noop_s.append(_make_noop(tree))
            if time.monotonic() > deadline:
                break
    return times
