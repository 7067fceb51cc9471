"""Build the HTML documentation into one folder: the guide (docs/*.md) and the API reference.

    python docs/build.py [--out build/docs]        # what `make docs` runs

- The guide: each page in ``PAGES`` is Markdown rendered by markdown-it-py (CommonMark, tables,
  heading anchors from mdit-py-plugins), code coloured by Pygments, into ``page.html`` (Jinja2).
  Links between pages are written ``other.md#anchor`` so that they also work where Markdown is
  read as it is; they become ``other.html#anchor`` here.
- The reference: ``reference.html``, Redocly's ``build-docs`` (pinned in package.json) over
  spec/calling-api.yaml, with Redoc's scripts inlined and ``reference.hbs`` as the page template.

Every tool is pinned (requirements-dev.txt, package-lock.json) and nothing is fetched, neither
while building nor when a page is read: tests/docs/test_browser.py opens every page in Chromium
and fails on any request that leaves the folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup
from mdit_py_plugins.anchors import anchors_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
SPEC = ROOT / "spec" / "calling-api.yaml"
REDOCLY = ROOT / "node_modules" / ".bin" / "redocly"

# The guide's pages in reading order (the navigation lists them so).
PAGES = ["index.md", "quickstart.md", "signing.md", "callbacks.md", "server.md", "migration.md"]

# Redoc 3 shows Redocly's logo in its sidebar, loaded from Redocly's CDN whatever the options say
# (build-docs 2.77.0). The reference must load nothing from the network, so the page points at a
# local wordmark instead; the build fails if the pinned Redoc stops loading exactly these.
REDOC_REMOTE_LOGOS = (
    "https://cdn.redoc.ly/redoc/logo-mini-full.svg",
    "https://cdn.redoc.ly/redoc/logo-mini.svg",
)
LOCAL_LOGO = "redocly-logo.svg"
LOGO_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="64" height="16" viewBox="0 0 64 16">
<text x="0" y="12" font-family="system-ui, sans-serif" font-size="12" fill="#0044d4">Redocly</text>
</svg>
"""


@dataclass(frozen=True)
class Page:
    source: str  # "quickstart.md"
    html: str  # "quickstart.html"
    title: str  # its first heading
    body: str  # the rendered Markdown


def markdown() -> MarkdownIt:
    formatter = HtmlFormatter(nowrap=True)

    def colour(code: str, lang: str, _attrs: str) -> str:
        try:
            lexer = get_lexer_by_name(lang)
        except ClassNotFound:
            return ""  # markdown-it escapes the code itself
        return str(highlight(code, lexer, formatter))

    # html=True passes the <!-- run --> markers of tests/docs through (invisible comments).
    md = MarkdownIt("commonmark", {"html": True, "highlight": colour}).enable("table")
    return md.use(anchors_plugin, min_level=2, max_level=3)


def html_name(source: str) -> str:
    return source.removesuffix(".md") + ".html"


def rewrite_links(tokens: Sequence[Token]) -> None:
    """``page.md`` and ``page.md#anchor`` links to other guide pages become ``page.html...``."""
    for token in tokens:
        if token.children:
            rewrite_links(token.children)
        if token.type != "link_open":
            continue
        href = str(token.attrGet("href") or "")
        page, _, anchor = href.partition("#")
        if page in PAGES:
            token.attrSet("href", html_name(page) + (f"#{anchor}" if anchor else ""))


def render_page(md: MarkdownIt, source: str) -> Page:
    tokens = md.parse((DOCS / source).read_text(encoding="utf-8"))
    titles = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h1"]
    if len(titles) != 1:
        raise SystemExit(f"docs/{source}: a guide page needs exactly one '# Title' heading")
    rewrite_links(tokens)
    return Page(source, html_name(source), titles[0], md.renderer.render(tokens, md.options, {}))


def build_guide(out: Path, version: str) -> None:
    unlisted = {path.name for path in DOCS.glob("*.md")} ^ set(PAGES)
    if unlisted:
        raise SystemExit(f"docs/build.py: PAGES and the docs/*.md files differ: {sorted(unlisted)}")
    md = markdown()
    pages = [render_page(md, source) for source in PAGES]
    templates = Environment(loader=FileSystemLoader(DOCS), autoescape=True, undefined=StrictUndefined)
    template = templates.get_template("page.html")
    for page in pages:
        html = template.render(
            title=page.title,
            version=version,
            pages=pages,
            current=page.html,
            body=Markup(page.body),  # our own HTML, not to escape
        )
        (out / page.html).write_text(html, encoding="utf-8")
    shutil.copyfile(DOCS / "style.css", out / "style.css")
    (out / "pygments.css").write_text(HtmlFormatter().get_style_defs("pre code") + "\n", encoding="utf-8")


def build_reference(out: Path) -> None:
    target = out / "reference.html"
    env = {
        **os.environ,
        "REDOCLY_TELEMETRY": "off",
        "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
        "NO_UPDATE_NOTIFIER": "1",
    }
    command = [str(REDOCLY), "build-docs", str(SPEC), "--output", str(target), "--inlineBundle"]
    command += ["--template", str(DOCS / "reference.hbs"), "--title", "Sinch Calling API reference"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"redocly build-docs failed:\n{done.stdout}{done.stderr}")
    html = target.read_text(encoding="utf-8")
    for url in REDOC_REMOTE_LOGOS:
        if url not in html:
            raise SystemExit(f"the reference no longer loads {url}: review REDOC_REMOTE_LOGOS in docs/build.py")
        html = html.replace(url, LOCAL_LOGO)
    target.write_text(html, encoding="utf-8")
    (out / LOCAL_LOGO).write_text(LOGO_SVG, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "docs", help="folder to (re)create")
    args = parser.parse_args(argv)
    out: Path = args.out
    if not REDOCLY.exists():
        raise SystemExit("node_modules/.bin/redocly is missing: run `make node` (npm ci) first")
    version = str(yaml.safe_load(SPEC.read_text(encoding="utf-8"))["info"]["version"])
    shutil.rmtree(out, ignore_errors=True)  # no page of an older build survives
    out.mkdir(parents=True)
    build_guide(out, version)
    build_reference(out)
    print(f"docs: {out}/index.html ({len(PAGES)} guide pages) and {out}/reference.html", file=sys.stderr)


if __name__ == "__main__":
    main()
