"""The built wheels work for a new user: each installs into an empty venv and the README runs.

Builds the pure-Python wheel from this checkout, installs it with the `[server]` extra into a fresh
virtual environment (dependencies come from the package index, as for a user), starts the recorded
server from that environment's `sinch-calling-server` command, and runs both README quickstarts
there. The compiled wheel goes through the same in `make test-compiled`.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
SPEC_VERSION = yaml.safe_load((ROOT / "spec" / "calling-api.yaml").read_text())["info"]["version"]

pytestmark = pytest.mark.slow


def quickstart(marker: str) -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\n```python\n(.*?)```", readme, flags=re.DOTALL)
    assert match, f"README has no {marker} block"
    return match.group(1)


def quickstart_server_args() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"^sinch-calling-server (.*)$", readme, flags=re.MULTILINE)
    assert match, "README shows no sinch-calling-server command"
    return match.group(1).split()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("sinch_calling-*.whl")
    return built


def find_python(version: str) -> str | None:
    """A working interpreter of ``version`` (a pyenv shim may exist without the version selected)."""
    candidates = [
        shutil.which(f"python{version}"),
        *glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/python{version}")),
    ]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "import venv"], capture_output=True).returncode == 0:
            return candidate
    return None


COMPILED_WHEELS = ROOT / "build" / "compiled-wheel"


def compiled_wheel() -> Path:
    """The compiled wheel for this interpreter, as `make compiled` built it."""
    found = sorted(COMPILED_WHEELS.glob("sinch_calling-*-cp*.whl"))
    if not found:
        pytest.fail(f"no compiled wheel in {COMPILED_WHEELS}: `make test-compiled` builds it first")
    return found[-1]


# The oldest supported Python (pyproject says >=3.10) with the pure wheel, and the one running the
# tests with the pure wheel; `make test-compiled` adds the compiled wheel (it needs a C compiler).
VARIANTS = [(find_python("3.10"), "pure"), (sys.executable, "pure")]
VARIANT_IDS = ["py3.10", "current"]
if os.environ.get("SINCH_CALLING_TEST_COMPILED_WHEEL") == "1":
    VARIANTS, VARIANT_IDS = [(sys.executable, "compiled")], ["current-compiled"]
BUILD_OF: dict[Path, str] = {}  # each fresh venv -> the wheel it has: "pure" or "compiled"


@pytest.fixture(scope="module", params=VARIANTS, ids=VARIANT_IDS)
def fresh_venv(request: pytest.FixtureRequest, wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    interpreter, build = request.param
    if interpreter is None:
        pytest.skip("no Python 3.10 is installed here")
    if build == "compiled":
        wheel = compiled_wheel()
    env = tmp_path_factory.mktemp("venv")
    subprocess.run([interpreter, "-m", "venv", str(env)], check=True, capture_output=True)
    python = env / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{wheel}[server]"],
        check=True,
        capture_output=True,
    )
    BUILD_OF[env] = build
    return env


def test_wheel_contents(wheel: Path) -> None:
    assert wheel.name == f"sinch_calling-{SPEC_VERSION}-py3-none-any.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "sinch_calling/__init__.py",
        "sinch_calling/py.typed",
        "sinch_calling/openapi.yaml",
        "sinch_calling/_runtime/signing.py",
        "sinch_calling_server/__init__.py",
        "sinch_calling_server/py.typed",
    ):
        assert expected in names


def test_installs_imports_and_reports_the_spec_version(fresh_venv: Path) -> None:
    # (3.10 has no datetime.fromisoformat for Sinch's "Z" timestamps; the quickstart parses one.)
    python = fresh_venv / "bin" / "python"
    code = "import sinch_calling, importlib.metadata as m; print(sinch_calling.__version__, m.version('sinch-calling'))"
    out = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout.split()
    assert out == [SPEC_VERSION, SPEC_VERSION]


def test_each_wheel_installs_its_own_modules(fresh_venv: Path) -> None:
    python = fresh_venv / "bin" / "python"
    modules = "sinch_calling_server.pipeline", "sinch_calling._runtime.signing"
    code = f"import importlib; print(*(importlib.import_module(m).__file__ for m in {modules!r}))"
    files = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout.split()
    expected = ".so" if BUILD_OF[fresh_venv] == "compiled" else ".py"
    assert [Path(f).suffix for f in files] == [expected, expected], files


@pytest.fixture(scope="module")
def server_url(fresh_venv: Path) -> Iterator[str]:
    port = free_port()
    command = [str(fresh_venv / "bin" / "sinch-calling-server"), *quickstart_server_args()]
    command = [arg if arg != "8080" else str(port) for arg in command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    stderr = process.stderr.read() if process.stderr else b""
                    raise RuntimeError(f"server did not start: {stderr!r}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("marker", ["quickstart-sync", "quickstart-async"])
def test_readme_quickstart_runs_against_the_installed_server(fresh_venv: Path, server_url: str, marker: str) -> None:
    code = quickstart(marker).replace("http://127.0.0.1:8080", server_url)
    python = str(fresh_venv / "bin" / "python")
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    if marker == "quickstart-sync":
        call_id, status, result = done.stdout.splitlines()[0].split()
        assert result == "N/A"  # ringing: no result yet
        assert re.fullmatch(r"[0-9a-f]{32}", call_id) and status == "ONGOING"
        assert done.stdout.splitlines()[1] == "404 40400 Call not found"
    else:
        call_id, participants = done.stdout.split()
        assert re.fullmatch(r"[0-9a-f]{32}", call_id) and participants == "0"  # still ringing


def test_readme_testing_module_passes_in_an_empty_project(fresh_venv: Path, tmp_path: Path) -> None:
    """The README's "Testing your app" module, copied into a new project: only the package and pytest."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- testing -->\n```python\n(.*?)```", readme, flags=re.DOTALL)
    assert match, "README has no testing block"
    python = fresh_venv / "bin" / "python"
    pytest_pin = next(
        line for line in (ROOT / "requirements-dev.txt").read_text().splitlines() if line.startswith("pytest==")
    )
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", pytest_pin],
        check=True,
        capture_output=True,
    )
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_calls.py").write_text(match.group(1))
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env={name: value for name, value in os.environ.items() if name not in ("PYTHONPATH",)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


IVR_TEST = """
from webhook_app import CALLBACK_PATH, create_app
import threading, time, uvicorn


def test_inbound_ivr_flow(sinch_server, sinch_client, sinch_credentials):
    app = create_app(sinch_credentials.application_key, sinch_credentials.application_secret, menu_on_ice=True)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.005)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        sinch_client.applications.callbacks.update(url={"primary": f"http://127.0.0.1:{port}{CALLBACK_PATH}"})
        call_id = sinch_server.inbound_call("+46700000001", "+46812345678", presses=["1"], hangup_after=45)
        (ice,) = sinch_server.advance(0)
        assert ice["response"]["action"]["name"] == "runMenu"
        (pie,) = sinch_server.advance(2)
        assert pie["request"]["menuResult"]["value"] == "conference"
        assert pie["response"]["action"]["name"] == "connectConf"
        assert [p.id for p in sinch_client.conferences.get("myConference").participants] == [call_id]
        (dice,) = sinch_server.advance(45)
        assert dice["request"]["reason"] == "CALLERHANGUP"
        assert sinch_client.calls.get(call_id).status == "FINAL"
    finally:
        server.should_exit = True
"""


def test_an_inbound_ivr_flow_runs_in_an_empty_project(fresh_venv: Path, tmp_path: Path) -> None:
    """The fixtures drive ICE -> runMenu -> DTMF -> PIE -> connectConf -> DiCE against the example app."""
    python = fresh_venv / "bin" / "python"
    pins = {line.split("==")[0].lower(): line for line in (ROOT / "requirements-dev.txt").read_text().splitlines()}
    subprocess.run(  # the project's own test tool and web framework
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            pins["pytest"],
            "starlette",  # the project's own web framework: any its Python can run
        ],
        check=True,
        capture_output=True,
    )
    project = tmp_path / "ivr-project"
    project.mkdir()
    shutil.copy(ROOT / "examples" / "webhook_app.py", project / "webhook_app.py")
    (project / "test_ivr.py").write_text(IVR_TEST)
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=0", "test_ivr.py"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env={name: value for name, value in os.environ.items() if name != "PYTHONPATH"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
