"""Make ``sinch_calling._runtime`` importable before the generator has produced the package.

Once the package is generated (and installed or on the path), the tests import that copy.
Until then they import the hand-written ``generated/sinch_calling/_runtime`` through a throwaway
``sinch_calling`` package.
"""

from __future__ import annotations

import atexit
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

_RUNTIME_SOURCE = Path(__file__).resolve().parents[2] / "generated" / "sinch_calling" / "_runtime"


def _make_runtime_importable() -> None:
    if importlib.util.find_spec("sinch_calling") is not None:
        return
    root = Path(tempfile.mkdtemp(prefix="sinch-calling-runtime-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    package = root / "sinch_calling"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "_runtime").symlink_to(_RUNTIME_SOURCE, target_is_directory=True)
    sys.path.insert(0, str(root))


_make_runtime_importable()
