"""make release: it refuses without credentials, refuses a failing gate, and publishes where told.

`make release-dry-run` itself (local index -> fresh venv -> README quickstart) is run by `make test`
as a prerequisite, not again here; these tests cover what the dry run does not reach.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from packaging.version import Version

from tools import check_breaking, release
from tools.changes import Change, Level

ROOT = Path(__file__).resolve().parents[2]
NO_TWINE = {name: value for name, value in os.environ.items() if not name.startswith("TWINE_")}


@pytest.mark.parametrize("present", [(), ("TWINE_REPOSITORY_URL",), ("TWINE_USERNAME", "TWINE_PASSWORD")])
def test_release_refuses_without_an_index_and_credentials(present: tuple[str, ...]) -> None:
    env = {**NO_TWINE, **{name: "set" for name in present}}
    done = subprocess.run(
        [sys.executable, "-m", "tools.release", "credentials"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stderr.startswith("release: refusing to publish: ")
    missing = [name for name in release.PUBLISH_VARIABLES if name not in present]
    assert f"{', '.join(missing)} not set" in done.stderr


def test_publish_refuses_before_any_upload(tmp_path: Path) -> None:
    """Not even the dist folder is looked at: nothing is built or sent."""
    done = subprocess.run(
        [sys.executable, "-m", "tools.release", "publish", str(tmp_path / "no-dist")],
        cwd=ROOT,
        env=NO_TWINE,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "refusing to publish" in done.stderr


def test_the_dry_run_stops_at_a_failing_gate(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    failing = check_breaking.decide(
        Version("0.2.0"), Version("0.2.0"), [Change(Level.BREAKING, "spec: schema X.y", "field removed")], ""
    )
    monkeypatch.setattr(check_breaking, "check", lambda: failing)
    monkeypatch.setattr(release, "local_index", None)  # would raise if the dry run got that far

    assert release.main(["dry-run", "dist"]) == 1

    captured = capsys.readouterr()
    assert "breaking  spec: schema X.y: field removed" in captured.out
    assert "FAIL: version 0.2.0 is no bump over 0.2.0; the changes listed need 0.3.0 or later" in captured.out
    assert "release: the version gate failed" in captured.err


@pytest.mark.slow
def test_publish_uploads_to_the_index_it_is_given_and_records_the_release(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    packages, released = tmp_path / "index", tmp_path / "released"
    packages.mkdir()
    version = str(check_breaking.spec_version(check_breaking.load_yaml(check_breaking.SPEC)))
    with release.local_index(packages) as index_url:
        env = {**NO_TWINE, "TWINE_REPOSITORY_URL": index_url, "TWINE_USERNAME": "u", "TWINE_PASSWORD": "p"}
        done = subprocess.run(
            [sys.executable, "-m", "tools.release", "publish", str(dist), "--released", str(released)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        listed = httpx.get(f"{index_url}/simple/sinch-calling/").text

    assert f"sinch_calling-{version}-py3-none-any.whl" in listed
    assert f"sinch_calling-{version}.tar.gz" in listed
    assert sorted(path.name for path in packages.iterdir()) == [
        f"sinch_calling-{version}-py3-none-any.whl",
        f"sinch_calling-{version}.tar.gz",
    ]
    # The next check compares with what was just published: nothing has changed since.
    assert sorted(path.name for path in released.iterdir()) == [
        f"calling-api-{version}.yaml",
        f"python-api-{version}.json",
    ]
    decision = check_breaking.check(released_dir=released)
    assert decision.changes == [] and decision.ok


def test_a_server_that_does_not_start_is_reported_with_its_errors() -> None:
    crashing = [sys.executable, "-c", "import sys; sys.exit('port already taken')"]
    url = f"http://127.0.0.1:{release.free_port()}/"
    with (
        pytest.raises(release.ReleaseError, match=r"pypiserver did not start at .*\nport already taken"),
        release.background(crashing, url, "pypiserver"),
    ):
        pytest.fail("the block runs only once the server answers")
