"""hatch build hook: the compiled wheel, next to the pure-Python one (black's model).

``SINCH_CALLING_COMPILE=1 python -m build --wheel`` compiles the modules that every request
of the recorded server runs (and the signing runtime, which the client shares) with mypyc,
mypy's compiler, into a platform wheel; ``make build`` makes both wheels. Without the variable
the wheel is pure Python and installs anywhere. The two behave the same: ``make test`` runs the
server, runtime, client and contract tests against the compiled build too, and installs it in an
empty venv (tests/packaging). Why: the compiled server answers about a fifth more callouts per
second, and the recorded server's throughput targets need it (server/README.md, "Performance").

Not in ``generator/``: this builds the package, it does not render it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

ENABLE = "SINCH_CALLING_COMPILE"
COMPILER_TOOLS = ("mypy", "mypy_extensions", "setuptools")  # pinned in requirements-dev.txt

# The request path: what every signed, validated request runs through. The rest (CLI, app
# assembly, recordings, callback delivery) runs once or rarely and stays interpreted.
COMPILED = (
    "generated/sinch_calling/_runtime/signing.py",
    "generated/sinch_calling/_runtime/timestamps.py",
    "server/sinch_calling_server/auth.py",
    "server/sinch_calling_server/callflow.py",
    "server/sinch_calling_server/calls.py",
    "server/sinch_calling_server/clock.py",
    "server/sinch_calling_server/errors.py",
    "server/sinch_calling_server/jsonio.py",
    "server/sinch_calling_server/messages.py",
    "server/sinch_calling_server/pipeline.py",
    "server/sinch_calling_server/simulation.py",
    "server/sinch_calling_server/spec.py",
    "server/sinch_calling_server/store.py",
)

# Run in a child process: mypyc drives setuptools, which should not run inside the build backend.
_COMPILE = """
import sys
from mypyc.build import mypycify
from setuptools import Distribution

out, files = sys.argv[1], sys.argv[2:]
# A bare Distribution, not setup(): setup() would read pyproject.toml, which is hatchling's.
dist = Distribution({"name": "sinch-calling-compiled", "ext_modules": mypycify(files, opt_level="3")})
build = dist.get_command_obj("build_ext")
build.build_lib, build.build_temp = out + "/lib", out + "/tmp"
build.ensure_finalized()
build.run()
"""


class CompiledWheelHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def _enabled(self, version: str = "standard") -> bool:
        # Never for an editable install: development runs the sources as they are.
        return self.target_name == "wheel" and version != "editable" and os.environ.get(ENABLE) == "1"

    def dependencies(self) -> list[str]:
        """What the compiled build needs besides hatchling, at the versions the project pins."""
        if not self._enabled():
            return []
        pins = Path(self.root, "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
        return [line for line in pins if line.partition("==")[0] in COMPILER_TOOLS]

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if not self._enabled(version):
            return
        self._out = Path(tempfile.mkdtemp(prefix="sinch-calling-mypyc-"))
        subprocess.run([sys.executable, "-c", _COMPILE, str(self._out), *COMPILED], cwd=self.root, check=True)
        lib = self._out / "lib"
        for built in sorted(lib.rglob("*.so")):
            build_data["force_include"][str(built)] = built.relative_to(lib).as_posix()
        build_data["pure_python"] = False
        build_data["infer_tag"] = True  # cp311-cp311-<platform>: the extension modules are CPython's

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        out = getattr(self, "_out", None)
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
