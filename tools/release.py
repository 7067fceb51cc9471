"""make release-dry-run and make release: the built package, published and used as a user would.

    python -m tools.release dry-run dist      # local index -> fresh venv -> README quickstart
    python -m tools.release credentials       # refuse early when `make release` could not upload
    python -m tools.release publish dist      # upload to $TWINE_REPOSITORY_URL, then record the release

The dry run takes the sdist and the wheel that `make build` left in dist/, uploads them with twine
to a real package index started on a free loopback port (pypiserver), installs
``sinch-calling[server]==<version>`` from it into a new virtual environment (dependencies from the
ordinary indexes and pip's cache), starts ``sinch-calling-server`` from that environment and runs
the README's quickstart against it. It prints the version decision of tools/check_breaking.py
first and refuses to go on when that gate fails.

Publishing goes to the index named by TWINE_REPOSITORY_URL with TWINE_USERNAME/TWINE_PASSWORD and
nowhere else: without them it refuses, before anything is built or uploaded. CI publishes with
PyPI's trusted publishing instead (.github/workflows/release.yml), which needs no stored secret.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tools import check_breaking

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PROJECT = "sinch-calling"
# Where a user's pip finds the dependencies; the package itself must come from the local index.
DEPENDENCY_INDEX = "https://pypi.org/simple/"
PUBLISH_VARIABLES = ("TWINE_REPOSITORY_URL", "TWINE_USERNAME", "TWINE_PASSWORD")


class ReleaseError(Exception):
    """A step failed; the message says which and what it printed."""


# ---------------------------------------------------------------- artifacts
def artifacts(dist: Path, version: str) -> list[Path]:
    """The sdist and the pure-Python wheel of ``version`` that `make build` made."""
    wanted = [dist / f"sinch_calling-{version}.tar.gz", dist / f"sinch_calling-{version}-py3-none-any.whl"]
    missing = [path.name for path in wanted if not path.is_file()]
    if missing:
        raise ReleaseError(f"{', '.join(missing)} not in {dist}: run `make build` (the spec says {version})")
    return wanted


# ---------------------------------------------------------------- processes
def run(command: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """Run a step; on failure raise with its output, which is otherwise kept quiet."""
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    if done.returncode != 0:
        shown = " ".join(command[:4])
        raise ReleaseError(f"{shown} ... failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> bool:
    """Poll ``url`` until it answers; False when the process exits or the time is up first."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return True
        except httpx.TransportError:
            time.sleep(0.1)
    return False


@contextmanager
def background(command: list[str], url: str, what: str) -> Iterator[subprocess.Popen[bytes]]:
    """A server process for the duration of a block, stopped (not left behind) whatever happens."""
    # stderr to a file, not a pipe: nobody reads a pipe while the server runs, and a full one blocks it
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            if not wait_until_up(url, process):
                process.kill()
                process.wait()
                errors.seek(0)
                raise ReleaseError(f"{what} did not start at {url}:\n{errors.read().decode(errors='replace')}")
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def local_index(packages: Path) -> Iterator[str]:
    """A pypiserver on a free loopback port: uploads without credentials, no fallback to PyPI."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "pypiserver", "run", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--authenticate", ".", "--passwords", ".", "--disable-fallback", "--log-stream", "none"]
    with background([*command, str(packages)], f"{url}/health", "pypiserver"):
        yield url


# ---------------------------------------------------------------- the steps
def upload(files: list[Path], repository_url: str, *, credentials: dict[str, str]) -> None:
    env = {**os.environ, **credentials}
    run([sys.executable, "-m", "twine", "upload", "--non-interactive", "--disable-progress-bar",
         "--repository-url", repository_url, *map(str, files)], env=env)  # fmt: skip


def install_from_index(venv: Path, index_url: str, version: str) -> str:
    """Install into a new venv; return the URL pip downloaded the package from (its --report)."""
    run([sys.executable, "-m", "venv", str(venv)])
    report = venv / "pip-report.json"
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--index-url", f"{index_url}/simple/", "--extra-index-url", DEPENDENCY_INDEX,
         "--report", str(report), f"{PROJECT}[server]=={version}"])  # fmt: skip
    installed = json.loads(report.read_text(encoding="utf-8"))["install"]
    ours = next(item for item in installed if item["metadata"]["name"] == PROJECT)
    return str(ours["download_info"]["url"])


def readme_block(marker: str) -> str:
    """A README code block after ``<!-- marker -->``, as tests/packaging/test_wheel.py reads them."""
    found = re.search(rf"<!-- {marker} -->\n```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    if found is None:
        raise ReleaseError(f"README.md has no {marker} block")
    return found.group(1)


def readme_server_args(port: int) -> list[str]:
    """The README's `sinch-calling-server ...` line, on ``port`` instead of 8080."""
    found = re.search(r"^sinch-calling-server (.*)$", README.read_text(encoding="utf-8"), re.MULTILINE)
    if found is None:
        raise ReleaseError("README.md shows no sinch-calling-server command")
    return [str(port) if arg == "8080" else arg for arg in found.group(1).split()]


def run_quickstart(venv: Path) -> str:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = [str(venv / "bin" / "sinch-calling-server"), *readme_server_args(port)]
    with background(server, f"{url}/", "sinch-calling-server from the fresh venv"):
        code = readme_block("quickstart-sync").replace("http://127.0.0.1:8080", url)
        out = run([str(venv / "bin" / "python"), "-c", code], cwd=venv)
    # What the quickstart prints: "<call id> ONGOING N/A", then the 404 it provokes.
    if not re.fullmatch(r"[0-9a-f]{32} ONGOING N/A\n404 40400 Call not found\n", out):
        raise ReleaseError(f"the quickstart printed something unexpected:\n{out}")
    return out


def dry_run(dist: Path) -> None:
    decision = check_breaking.check()
    print(decision.summary(), flush=True)
    if not decision.ok:
        raise ReleaseError("the version gate failed (make check-breaking lists every change)")
    version = str(decision.current)
    files = artifacts(dist, version)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sinch-calling-release-") as tmp:
        work = Path(tmp)
        (work / "index").mkdir()
        with local_index(work / "index") as index_url:
            upload(files, index_url, credentials={"TWINE_USERNAME": "dry-run", "TWINE_PASSWORD": "dry-run"})
            print(f"uploaded {', '.join(f.name for f in files)} to {index_url} (pypiserver)", flush=True)
            source = install_from_index(work / "venv", index_url, version)
        if not source.startswith(index_url):
            raise ReleaseError(f"pip installed {PROJECT} from {source}, not from the local index")
        print(f"installed {PROJECT}[server]=={version} into a fresh venv from {source}", flush=True)
        out = run_quickstart(work / "venv")
        print("README quickstart against the installed sinch-calling-server:\n  " + out.strip().replace("\n", "\n  "))
    print(f"release dry run of {version}: OK in {time.monotonic() - started:.1f} s")


# ---------------------------------------------------------------- publishing
def publish_credentials(env: dict[str, str]) -> dict[str, str]:
    missing = [name for name in PUBLISH_VARIABLES if not env.get(name)]
    if missing:
        raise ReleaseError(
            f"refusing to publish: {', '.join(missing)} not set. `make release` uploads only to the index "
            "named by TWINE_REPOSITORY_URL, with TWINE_USERNAME and TWINE_PASSWORD (an API token: "
            "TWINE_USERNAME=__token__); `make release-dry-run` needs none of them"
        )
    return {name: env[name] for name in PUBLISH_VARIABLES}


def publish(dist: Path, released: Path) -> None:
    credentials = publish_credentials(dict(os.environ))
    decision = check_breaking.check()
    if not decision.ok:
        raise ReleaseError("the version gate failed (make check-breaking lists every change)")
    files = artifacts(dist, str(decision.current))
    upload(files, credentials["TWINE_REPOSITORY_URL"], credentials=credentials)
    print(f"published {', '.join(f.name for f in files)} to {credentials['TWINE_REPOSITORY_URL']}")
    # The next check compares with this release: commit what this writes.
    for path in check_breaking.record(check_breaking.SPEC, check_breaking.PACKAGE_DIR, released):
        print(f"recorded {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: commit it")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="release", description=__doc__.split("\n\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    steps.add_parser("dry-run").add_argument("dist", type=Path)
    steps.add_parser("credentials")
    publishing = steps.add_parser("publish")
    publishing.add_argument("dist", type=Path)
    publishing.add_argument("--released", type=Path, default=check_breaking.RELEASED)
    args = parser.parse_args(argv)
    try:
        if args.step == "dry-run":
            dry_run(args.dist)
        elif args.step == "credentials":
            publish_credentials(dict(os.environ))
        else:
            publish(args.dist, args.released)
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
