"""Exception hierarchy of the build. Turned into exit codes only in build.py."""

from __future__ import annotations

from dataclasses import dataclass

from portal.errors import PortalError

__all__ = ["BuildError", "ContentError", "PortalError", "Problem"]


@dataclass(frozen=True, order=True)
class Problem:
    """One error in the content, located at a file and line."""

    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ContentError(PortalError):
    """The content has errors; nothing may be built while they stand."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__(f"{len(self.problems)} error(s) in the content")


class BuildError(PortalError):
    """A site could not be built; the previous output stays in place."""
