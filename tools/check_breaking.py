"""make check-breaking: does the version say what changed since the last release?

Compares the spec (spec/calling-api.yaml) and the Python API of the generated package
(generated/sinch_calling) with the last release kept in spec/released/: the spec as it was
released and a griffe dump of the package's API. Each change is classified (tools/spec_diff.py,
tools/api_diff.py); the gate then asks for

- a version (the spec's info.version, which the package reports) at least one step above the
  release: major for a breaking change (minor while the release is 0.x), minor for an addition,
  patch for documentation only;
- an entry in CHANGELOG.md: a section for the new version, or an [Unreleased] one, with content.

    python -m tools.check_breaking            # the report; exits 1 when the gate fails
    python -m tools.check_breaking --record   # after a release: keep its spec and API as the baseline
"""

from __future__ import annotations

import argparse
import enum
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from packaging.version import Version

from tools import api_diff, spec_diff
from tools.changes import Change, Level, highest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "spec" / "calling-api.yaml"
RELEASED = ROOT / "spec" / "released"
PACKAGE_DIR = ROOT / "generated"
CHANGELOG = ROOT / "CHANGELOG.md"


class Bump(enum.IntEnum):
    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def phrase(self) -> str:
        return "no bump" if self is Bump.NONE else f"a {self.label} bump"


@dataclass
class Decision:
    released: Version
    current: Version
    changes: list[Change]
    needed: Bump
    made: Bump | None  # None: the version went down
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def level(self) -> Level:
        return highest(self.changes)

    def summary(self) -> str:
        """The version decision and its reasons, in a few lines."""
        counts = ", ".join(
            f"{sum(c.level == level for c in self.changes)} {level.label}"
            for level in (Level.BREAKING, Level.MINOR, Level.PATCH)
        )
        made = "a lower version" if self.made is None else self.made.phrase
        lines = [f"Version decision: {self.released} -> {self.current} is {made}; changes since then: {counts}."]
        if self.needed is Bump.NONE:
            lines.append("Nothing changed, so no bump is needed.")
        else:
            why = f"the changes need at least {self.needed.phrase} ({_next(self.released, self.needed)})"
            if self.level is Level.BREAKING and self.needed is Bump.MINOR:
                why += ": breaking changes, and while the version is 0.x a minor bump is enough"
            lines.append(why[0].upper() + why[1:] + ". Because of, for example:")
            lines += [f"  {change}" for change in self.changes if change.level == self.level][:5]
        lines += [f"FAIL: {problem}" for problem in self.problems] or ["OK: the version and CHANGELOG.md say enough."]
        return "\n".join(lines)

    def report(self) -> str:
        """Every change by class, then the decision."""
        lines = []
        for level in (Level.BREAKING, Level.MINOR, Level.PATCH):
            these = [change for change in self.changes if change.level == level]
            if these:
                lines.append(f"{level.label} ({len(these)}):")
                lines += [f"  {change.where}: {change.what}" for change in these]
                lines.append("")
        return "\n".join(lines) + self.summary()


def needed_bump(level: Level, released: Version) -> Bump:
    if level is Level.BREAKING:
        return Bump.MAJOR if released.major >= 1 else Bump.MINOR
    return {Level.MINOR: Bump.MINOR, Level.PATCH: Bump.PATCH}.get(level, Bump.NONE)


def made_bump(released: Version, current: Version) -> Bump | None:
    if current < released:
        return None
    if current.major > released.major:
        return Bump.MAJOR
    if current.minor > released.minor:
        return Bump.MINOR
    if current.micro > released.micro:
        return Bump.PATCH
    return Bump.NONE


def changelog_entry(changelog: str, version: Version) -> str | None:
    """The heading of the section that announces ``version`` ([x.y.z] or [Unreleased]), if any has content."""
    sections = re.split(r"^## ", changelog, flags=re.MULTILINE)[1:]
    for section in sections:
        heading, _, body = section.partition("\n")
        name = heading.strip().split("]")[0].lstrip("[")
        content = [line for line in body.splitlines() if line.strip() and not line.startswith("#")]
        if name in (str(version), "Unreleased") and content:
            return heading.strip()
    return None


def decide(
    released_version: Version,
    current_version: Version,
    changes: list[Change],
    changelog: str,
) -> Decision:
    needed = needed_bump(highest(changes), released_version)
    made = made_bump(released_version, current_version)
    decision = Decision(released_version, current_version, changes, needed, made)
    if made is None:
        decision.problems.append(f"the version went down, from {released_version} to {current_version}")
    elif made < needed:
        decision.problems.append(
            f"version {current_version} is {made.phrase} over {released_version}; the changes listed need "
            f"{_next(released_version, needed)} or later: raise info.version in spec/calling-api.yaml"
        )
    if (changes or made) and changelog_entry(changelog, current_version) is None:
        decision.problems.append(
            f"CHANGELOG.md has no entry for {current_version}: add a [{current_version}] or [Unreleased] section"
        )
    return decision


def _next(version: Version, bump: Bump) -> str:
    if bump is Bump.MAJOR:
        return f"{version.major + 1}.0.0"
    if bump is Bump.MINOR:
        return f"{version.major}.{version.minor + 1}.0"
    return f"{version.major}.{version.minor}.{version.micro + (bump is Bump.PATCH)}"


# ---------------------------------------------------------------- the released baseline
def last_release(released_dir: Path) -> Version:
    versions = [Version(path.stem.removeprefix("calling-api-")) for path in released_dir.glob("calling-api-*.yaml")]
    if not versions:
        raise SystemExit(f"no released spec in {released_dir} (calling-api-<version>.yaml)")
    return max(versions)


def released_spec_path(released_dir: Path, version: Version) -> Path:
    return released_dir / f"calling-api-{version}.yaml"


def released_api_path(released_dir: Path, version: Version) -> Path:
    return released_dir / f"python-api-{version}.json"


def record(spec_path: Path, package_dir: Path, released_dir: Path) -> list[Path]:
    """Keep this version's spec and API as the baseline of the next check (run when releasing)."""
    version = spec_version(load_yaml(spec_path))
    released_dir.mkdir(parents=True, exist_ok=True)
    spec_copy, api_dump = released_spec_path(released_dir, version), released_api_path(released_dir, version)
    spec_copy.write_bytes(spec_path.read_bytes())
    api_dump.write_text(api_diff.dump_api(api_diff.load_package(package_dir)), encoding="utf-8")
    return [spec_copy, api_dump]


# ---------------------------------------------------------------- the check
def load_yaml(path: Path) -> dict[str, Any]:
    # libyaml's loader when PyYAML has it: the pure-Python one takes a quarter second per spec
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    assert isinstance(loaded, dict), f"{path} is not a YAML mapping"
    return loaded


def spec_version(spec: dict[str, Any]) -> Version:
    return Version(str(spec["info"]["version"]))


def check(
    spec_path: Path = SPEC,
    released_dir: Path = RELEASED,
    package_dir: Path | None = PACKAGE_DIR,
    changelog_path: Path = CHANGELOG,
) -> Decision:
    """Compare with the last release; ``package_dir=None`` compares the spec alone."""
    released = last_release(released_dir)
    spec = load_yaml(spec_path)
    changes = spec_diff.diff_specs(load_yaml(released_spec_path(released_dir, released)), spec)
    problems = []
    if package_dir is not None:
        old_api = api_diff.load_dump(released_api_path(released_dir, released).read_text(encoding="utf-8"))
        new_api = api_diff.load_package(package_dir)
        changes += api_diff.diff_api(old_api, new_api)
        problems += _generated_version_problems(package_dir, spec_version(spec))
    decision = decide(released, spec_version(spec), changes, changelog_path.read_text(encoding="utf-8"))
    decision.problems += problems
    return decision


def _generated_version_problems(package_dir: Path, version: Version) -> list[str]:
    """The API compared must be the spec's: a stale generated package would hide changes."""
    init = (package_dir / api_diff.PACKAGE / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', init, flags=re.MULTILINE)
    if found is None or Version(found.group(1)) != version:
        shown = found.group(1) if found else "no __version__"
        return [f"the generated package says {shown}, the spec {version}: run `make generate`"]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="check-breaking", description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, default=SPEC)
    parser.add_argument("--released", type=Path, default=RELEASED, help="folder of released specs and API dumps")
    parser.add_argument("--package-dir", type=Path, default=PACKAGE_DIR, help="where sinch_calling/ is")
    parser.add_argument("--changelog", type=Path, default=CHANGELOG)
    parser.add_argument("--spec-only", action="store_true", help="leave the Python API out")
    parser.add_argument("--summary", action="store_true", help="the decision and its reasons, not every change")
    parser.add_argument("--record", action="store_true", help="keep the current spec and API as released")
    args = parser.parse_args(argv)
    if args.record:
        for path in record(args.spec, args.package_dir, args.released):
            print(f"recorded {path}")
        return 0
    decision = check(args.spec, args.released, None if args.spec_only else args.package_dir, args.changelog)
    print(decision.summary() if args.summary else decision.report())
    return 0 if decision.ok else 1


if __name__ == "__main__":
    sys.exit(main())
