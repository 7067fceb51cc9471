"""Every Python example of the guide (docs/*.md) runs as printed, against the recorded server.

A page's examples run in order in one namespace, as a reader would paste them one after the other.
Each ```python block is preceded by a marker saying how it runs:

- ``<!-- run -->``: it must run without an error;
- ``<!-- run raises="TypeError" match="not subscriptable" -->``: it must raise that exception (by
  class name, a base class's name counts) with a message matching ``match`` (the page documents
  the failure: sinch 1.1.4's bugs on the migration page);
- ``<!-- run pytest -->``: it is a test module; pytest must pass it in a new process.

A block without a marker fails the test, so that no example goes untested. Each page is served by
a fresh in-process recorded server started as the page's own ``sinch-calling-server`` command line
says (its ``--app`` credentials and ``--test-controls``); ``127.0.0.1:8080`` in the examples is
replaced by that server's address.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from sinch_calling_server import create_app

from tests.support import serve

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
DOCUMENTED_ADDRESS = "127.0.0.1:8080"
MARKER = re.compile(r"<!--\s*run(?P<options>(?:\s+\w+(?:=\"[^\"]*\")?)*)\s*-->")


@dataclass(frozen=True)
class Example:
    page: str
    line: int  # of the ```python fence, 1-based
    code: str
    options: dict[str, str]

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"


def fences(page: Path) -> Iterator[tuple[Any, Any]]:
    """Each fenced block of ``page`` with the token just before it (``None`` for the first)."""
    tokens = MarkdownIt("commonmark").parse(page.read_text(encoding="utf-8"))
    for index, token in enumerate(tokens):
        if token.type == "fence":
            yield (tokens[index - 1] if index else None), token


def examples(page: Path) -> list[Example]:
    found = []
    for before, fence in fences(page):
        if fence.info.strip() != "python":
            continue
        line = fence.map[0] + 1
        comment = before.content.strip() if before is not None and before.type == "html_block" else ""
        marker = MARKER.fullmatch(comment)
        assert marker, f"docs/{page.name}:{line}: a python block needs a <!-- run ... --> marker before it"
        options = dict(re.findall(r'(\w+)(?:="([^"]*)")?', marker["options"]))
        assert set(options) <= {"raises", "match", "pytest"}, f"docs/{page.name}:{line}: unknown option {options}"
        found.append(Example(page.name, line, fence.content, options))
    return found


def server_options(page: Path) -> argparse.Namespace:
    """The options of the page's own ``sinch-calling-server`` command line (in a bash block)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", action="append", default=[])
    parser.add_argument("--test-controls", action="store_true")
    for _, fence in fences(page):
        for line in fence.content.splitlines():
            if fence.info.strip() == "bash" and line.startswith("sinch-calling-server "):
                options, _ = parser.parse_known_args(shlex.split(line, comments=True)[1:])
                return options
    raise AssertionError(f"docs/{page.name} has examples but shows no sinch-calling-server command to run them")


def run(example: Example, namespace: dict[str, Any], address: str, tmp_path: Path) -> None:
    code = example.code.replace(DOCUMENTED_ADDRESS, address)
    if "pytest" in example.options:
        module = tmp_path / f"test_{Path(example.page).stem}_{example.line}.py"
        module.write_text(code, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(module)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{example.where}: pytest failed\n{done.stdout}{done.stderr}"
        return
    # Blank lines first, so that a traceback's line numbers are the Markdown file's.
    compiled = compile("\n" * example.line + code, f"docs/{example.page}", "exec")
    expected = example.options.get("raises")
    if expected is None:
        exec(compiled, namespace)
        return
    try:
        exec(compiled, namespace)
    except Exception as error:
        names = [cls.__name__ for cls in type(error).__mro__]
        assert expected in names, f"{example.where}: raised {error!r}, the page says {expected}"
        pattern = example.options.get("match", "")
        assert re.search(pattern, str(error)), f"{example.where}: {error!r} does not match {pattern!r}"
    else:
        pytest.fail(f"{example.where}: the page says this raises {expected}, and it did not")


@pytest.mark.parametrize("page", [p for p in PAGES if examples(p)], ids=lambda p: p.name)
def test_every_example_of_the_page_runs(page: Path, tmp_path: Path) -> None:
    options = server_options(page)
    applications = dict(app.split(":", 1) for app in options.app)
    app = create_app(applications=applications, test_controls=options.test_controls)
    namespace: dict[str, Any] = {"__name__": f"docs_{page.stem}"}
    with serve(app) as url:
        for example in examples(page):
            run(example, namespace, url.removeprefix("http://"), tmp_path)


def test_every_python_block_is_marked() -> None:
    """``examples`` refuses an unmarked block; this collects every page, with or without examples."""
    assert sum(len(examples(page)) for page in PAGES) > 0


def test_the_migration_page_shows_every_sinch_1_1_4_call_beside_ours() -> None:
    """Each Calling API method of sinch 1.1.4 runs in an example and has its row in the table;
    each method of this client is named on the page."""
    from sinch.domains.voice import Applications, Callouts, Calls, Conferences
    from sinch_calling import SinchClient

    page = DOCS / "migration.md"
    text = page.read_text(encoding="utf-8")
    code = "".join(example.code for example in examples(page))
    old = {"callouts": Callouts, "calls": Calls, "conferences": Conferences, "applications": Applications}
    for group, resource in old.items():
        for name in (n for n in vars(resource) if not n.startswith("_")):
            assert f"voice.{group}.{name}(" in code, f"no example runs sinch 1.1.4's voice.{group}.{name}"
            assert f"| `{group}.{name}(" in text, f"the table has no row for sinch 1.1.4's {group}.{name}"

    client = SinchClient(application_key="key", application_secret="c2VjcmV0")
    ours = [client.callouts, client.calls, client.conferences, client.numbers, client.applications.callbacks]
    words = set(re.findall(r"\w+", text))
    for resource in ours:
        for name in (n for n in dir(resource) if not n.startswith("_") and callable(getattr(resource, n))):
            assert name in words, f"the migration page never names {type(resource).__name__}.{name}"
    client.close()
