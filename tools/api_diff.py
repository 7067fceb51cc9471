"""Classify every change between two versions of the Python API, with griffe.

griffe finds what breaks in the declared public API (``__all__``, names without an underscore).
The client's resources are reached through properties (``client.calls.get(...)``) whose classes
need not be exported, so those classes are compared too, under the path a user types.
Public names that are new are minor changes.

A released API is kept as a griffe JSON dump (``spec/released/``): loading it needs neither the
released sources nor git history, so the check works in a shallow clone and in the sdist.
"""

from __future__ import annotations

import json
from pathlib import Path

import griffe

from tools.changes import Change, Level

PACKAGE = "sinch_calling"


def load_package(search_path: Path, package: str = PACKAGE) -> griffe.Object:
    """The package's API from its sources, statically (nothing is imported)."""
    loaded = griffe.load(
        package,
        search_paths=[search_path],
        allow_inspection=False,
        store_source=False,
        resolve_aliases=True,
        resolve_external=False,
    )
    assert isinstance(loaded, griffe.Object)
    return loaded


# Not API (docstrings), or this machine's (file paths): left out of a dump.
_NOT_API = frozenset({"docstring", "filepath"})


def dump_api(package: griffe.Object) -> str:
    """The API as JSON: what griffe compares, without docstrings or file paths."""
    return json.dumps(_strip(json.loads(package.as_json(full=False))), sort_keys=True) + "\n"


def load_dump(text: str) -> griffe.Object:
    package = griffe.Object.from_json(text)
    # Aliases resolve through a modules collection, which a loaded dump lacks; griffe's loader
    # would attach one, and griffe has no public way to attach it afterwards (pinned in
    # requirements-dev.txt, so this private attribute cannot move under us unnoticed).
    collection = griffe.ModulesCollection()
    collection.set_member(package.name, package)
    package._modules_collection = collection
    return package


def diff_api(old: griffe.Object, new: griffe.Object) -> list[Change]:
    changes = [_breaking(breakage, old.path, old.path) for breakage in griffe.find_breaking_changes(old, new)]
    changes += _PairWalk(old, new).run()
    return sorted(set(changes), key=lambda change: (-change.level, change.where, change.what))


class _PairWalk:
    """Additions in the declared API, and everything about classes reached through properties."""

    def __init__(self, old: griffe.Object, new: griffe.Object) -> None:
        self.old_root, self.new_root = old, new
        self.changes: list[Change] = []
        self.seen: set[tuple[str, str]] = set()

    def run(self) -> list[Change]:
        self._walk(self.old_root, self.new_root, self.new_root.path)
        return self.changes

    def _walk(self, old: griffe.Object, new: griffe.Object, shown: str) -> None:
        if (old.path, new.path) in self.seen:
            return
        self.seen.add((old.path, new.path))
        old_members = _public_members(old)
        for name, member in _public_members(new).items():
            if name not in old_members:
                self.changes.append(Change(Level.MINOR, f"python: {shown}.{name}", "added"))
                continue
            previous = old_members[name]
            if isinstance(member, griffe.Alias) or isinstance(previous, griffe.Alias):
                continue  # compared where it is defined
            if member.is_module or member.is_class:
                self._walk(previous, member, f"{shown}.{name}")
            elif "property" in member.labels:
                self._through_property(previous, member, f"{shown}.{name}")

    def _through_property(self, old: griffe.Object, new: griffe.Object, shown: str) -> None:
        """``client.calls`` returns a class: what it offers is API whatever its own name."""
        old_class, new_class = _returned_class(old, self.old_root), _returned_class(new, self.new_root)
        if old_class is None or new_class is None:
            return
        if (old_class.path, new_class.path) not in self.seen:
            for breakage in griffe.find_breaking_changes(old_class, new_class):
                self.changes.append(_breaking(breakage, old_class.path, shown))
        self._walk(old_class, new_class, shown)


def _public_members(obj: griffe.Object) -> dict[str, griffe.Object | griffe.Alias]:
    members: dict[str, griffe.Object | griffe.Alias] = {}
    for name, member in obj.members.items():
        try:
            public = member.is_public
        except griffe.AliasResolutionError:
            public = not name.startswith("_")
        if public:
            members[name] = member
    return members


def _returned_class(prop: griffe.Object, root: griffe.Object) -> griffe.Object | None:
    # griffe models a property as an attribute (its annotation) or a function (its return type)
    annotation = getattr(prop, "annotation", None) or getattr(prop, "returns", None)
    path = getattr(annotation, "canonical_path", None)
    if isinstance(path, str) and "." not in path and prop.parent is not None:
        # A dump's expressions lose their scope: resolve the bare name where the property lives.
        try:
            path = prop.parent.resolve(path)
        except griffe.NameResolutionError:
            return None
    if not isinstance(path, str) or not path.startswith(f"{root.path}."):
        return None
    try:
        target = root.modules_collection.get_member(path)
    except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None
    if isinstance(target, griffe.Alias):
        target = target.final_target
    return target if isinstance(target, griffe.Object) and target.is_class else None


def _breaking(breakage: griffe.Breakage, defined: str, shown: str) -> Change:
    """One griffe breakage, under the path a user types (``shown`` instead of ``defined``)."""
    path = breakage.obj.path
    if path == defined or path.startswith(f"{defined}."):
        path = shown + path[len(defined) :]
    return Change(Level.BREAKING, f"python: {path}", _describe(breakage))


def _describe(breakage: griffe.Breakage) -> str:
    kind = breakage.kind
    old, new = breakage.old_value, breakage.new_value
    if kind is griffe.BreakageKind.OBJECT_REMOVED:
        return "removed"
    parameter = old if isinstance(old, griffe.Parameter) else new if isinstance(new, griffe.Parameter) else None
    if parameter is not None:
        return f"{kind.value.lower()}: {parameter.name}"
    return f"{kind.value.lower()}: {_show(old)} -> {_show(new)}"


def _show(value: object) -> str:
    name = getattr(value, "path", None) or getattr(value, "name", None)
    return str(name if isinstance(name, str) else value)


def _strip(node: object) -> object:
    if isinstance(node, dict):
        return {key: _strip(value) for key, value in node.items() if key not in _NOT_API}
    if isinstance(node, list):
        return [_strip(value) for value in node]
    return node
