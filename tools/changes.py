"""What a change between two releases is worth: the vocabulary shared by the spec and API diffs."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Level(enum.IntEnum):
    """How far a change reaches, in semantic-versioning terms; ordered so that ``max`` decides."""

    NONE = 0
    PATCH = 1  # documentation only: descriptions, summaries, examples
    MINOR = 2  # additions a user may start relying on
    BREAKING = 3  # code written against the last release may stop working

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, order=True)
class Change:
    level: Level
    where: str  # "spec: POST /callouts (callout) response 200 .callId" or "python: sinch_calling.Foo.bar"
    what: str  # "removed", "now required in what users send", ...

    def __str__(self) -> str:
        return f"{self.level.label:<8}  {self.where}: {self.what}"


def highest(changes: list[Change]) -> Level:
    return max((change.level for change in changes), default=Level.NONE)
