"""The compiled wheel's run of these tests (``make test-compiled``) must exercise compiled code.

``make test-compiled`` runs the server's, runtime's, client's and contract tests with the
unpacked compiled wheel first on ``PYTHONPATH`` and ``SINCH_CALLING_EXPECT_COMPILED=1``; without
this check a broken build step would quietly test the pure-Python modules twice.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

from hatch_build import COMPILED

EXPECT_COMPILED = os.environ.get("SINCH_CALLING_EXPECT_COMPILED") == "1"


def _module_name(path: str) -> str:
    """``server/sinch_calling_server/auth.py`` -> ``sinch_calling_server.auth``."""
    return ".".join(Path(path).with_suffix("").parts[1:])


@pytest.mark.parametrize("path", COMPILED)
def test_each_listed_module_exists(path: str) -> None:
    root = Path(__file__).resolve().parents[2]
    assert (root / path).is_file(), f"hatch_build.COMPILED lists {path}, which does not exist"


@pytest.mark.skipif(not EXPECT_COMPILED, reason="the pure-Python run (make test-compiled runs the compiled one)")
def test_the_compiled_modules_are_what_runs() -> None:
    loaded = {path: importlib.import_module(_module_name(path)).__file__ or "" for path in COMPILED}
    interpreted = {path: file for path, file in loaded.items() if not file.endswith(".so")}
    assert not interpreted, f"imported from source, not from the compiled wheel: {interpreted}"
