"""The GitHub Actions workflows: actionlint finds nothing, and they do what the release needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"


def workflow(name: str) -> dict[Any, Any]:
    loaded = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    assert found, "actionlint is not installed: it is pinned in requirements-dev.txt"
    return found


def test_actionlint_passes() -> None:
    done = subprocess.run(
        [actionlint(), "-color=false", *map(str, sorted(WORKFLOWS.glob("*.yml")))],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The check above is not vacuous: a bad expression and a retired action are reported."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v1\n      - run: echo ${{ github.event.nope.x }\n",
        encoding="utf-8",
    )
    done = subprocess.run([actionlint(), "-color=false", str(broken)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "actions/checkout@v1" in done.stdout and "[expression]" in done.stdout


def test_ci_runs_make_test() -> None:
    steps = workflow("ci.yml")["jobs"]["test"]["steps"]
    assert [step["run"] for step in steps if "run" in step] == ["make test"]


def test_release_publishes_tags_with_trusted_publishing() -> None:
    release = workflow("release.yml")
    assert release[True] == {"push": {"tags": ["v*"]}}  # YAML 1.1 reads the key `on` as True
    build, publish = release["jobs"]["build"], release["jobs"]["publish"]
    assert any(step.get("run") == "make release-dry-run" for step in build["steps"])
    assert publish["needs"] == "build"
    assert publish["permissions"] == {"id-token": "write"}
    assert release["permissions"] == {"contents": "read"}  # only the publish job may mint a token
    (action,) = [step["uses"] for step in publish["steps"] if "pypi-publish" in step.get("uses", "")]
    assert re.fullmatch(r"pypa/gh-action-pypi-publish@v\d+\.\d+\.\d+", action), "pin the action by version"
    assert not any("password" in step.get("with", {}) for step in publish["steps"]), "no stored token"
