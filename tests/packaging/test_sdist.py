"""The sdist is enough on its own: unpacked elsewhere, it regenerates the client, rebuilds the same
wheel and runs the tests, with nothing from this checkout.

Downstream packagers (Debian, conda-forge) build from the sdist and run its tests; so does this.
"""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VERSION = yaml.safe_load((ROOT / "spec" / "calling-api.yaml").read_text(encoding="utf-8"))["info"]["version"]
HAND_WRITTEN = {"_runtime", "cli", "frameworks", "__pycache__"}  # the generator carries these over

pytestmark = pytest.mark.slow


def build(source: Path, out: Path, kind: str) -> Path:
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", f"--{kind}", "--outdir", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("*.tar.gz" if kind == "sdist" else "*.whl")
    return built


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist, built from this checkout and unpacked in a folder of its own."""
    sdist = build(ROOT, tmp_path_factory.mktemp("sdist"), "sdist")
    assert sdist.name == f"sinch_calling-{VERSION}.tar.gz"
    into = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(sdist) as archive:
        archive.extractall(into, filter="data")
    return into / f"sinch_calling-{VERSION}"


def test_it_carries_the_license_the_baseline_and_the_tools(unpacked: Path) -> None:
    for needed in (
        "LICENSE",
        "CHANGELOG.md",
        "spec/calling-api.yaml",
        "spec/released/calling-api-0.1.0.yaml",
        "spec/released/python-api-0.1.0.json",
        "generator/generate.py",
        "tools/check_breaking.py",
        "examples/webhook_app.py",
        "schemathesis.toml",
        "Makefile",
    ):
        assert (unpacked / needed).is_file(), needed
    assert "Apache License" in (unpacked / "LICENSE").read_text(encoding="utf-8")
    assert not list(unpacked.rglob("__pycache__"))


def test_it_regenerates_its_own_client(unpacked: Path, tmp_path: Path) -> None:
    out = tmp_path / "sinch_calling"
    subprocess.run(
        [sys.executable, "generator/generate.py", "--spec", "spec/calling-api.yaml", "--out", str(out)],
        cwd=unpacked,
        check=True,
        capture_output=True,
    )
    shipped = unpacked / "generated" / "sinch_calling"
    assert _differences(filecmp.dircmp(shipped, out, ignore=sorted(HAND_WRITTEN))) == []


def _differences(compared: filecmp.dircmp[str]) -> list[str]:
    found = [*compared.left_only, *compared.right_only, *compared.diff_files, *compared.funny_files]
    for sub in compared.subdirs.values():
        found += _differences(sub)
    return found


def test_it_rebuilds_the_wheel_of_this_checkout(unpacked: Path, tmp_path: Path) -> None:
    """Same files, same hashes (RECORD): nothing the wheel needs is missing from the sdist."""
    from_sdist = build(unpacked, tmp_path / "from-sdist", "wheel")
    from_checkout = build(ROOT, tmp_path / "from-checkout", "wheel")
    assert from_sdist.name == from_checkout.name == f"sinch_calling-{VERSION}-py3-none-any.whl"
    record = f"sinch_calling-{VERSION}.dist-info/RECORD"
    with zipfile.ZipFile(from_sdist) as left, zipfile.ZipFile(from_checkout) as right:
        assert left.read(record).decode() == right.read(record).decode()
        assert "sinch_calling-0.2.0.dist-info/licenses/LICENSE".replace("0.2.0", VERSION) in left.namelist()


def test_its_tests_pass_from_the_unpacked_sdist(unpacked: Path) -> None:
    """The spec, runtime, client-surface and release-gate tests, importing the sdist's own code."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(unpacked / d) for d in ("generated", "server", "."))}
    where = subprocess.run(
        [sys.executable, "-c", "import sinch_calling, sinch_calling_server, tools; print(sinch_calling.__file__)"],
        cwd=unpacked,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(unpacked), where  # not this checkout's editable install
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "not slow",
            "tests/spec",
            "tests/runtime",
            "tests/client/test_surface.py",
            "tests/release",
        ],
        cwd=unpacked,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout.splitlines()[-1]
