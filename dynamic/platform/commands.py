"""Operator commands of `build.py` that belong to the dynamic tier. The package a command
belongs to describes it as a Command (its arguments and what it runs); dynamic/commands.py
collects them and build.py adds them to its parser. `run` imports what it needs itself, so
that `build.py check` does not load the app."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EXIT_OK, EXIT_INPUT = 0, 1  # build.py's exit codes: done; wrong input, nothing changed


def _no_arguments(_parser: argparse.ArgumentParser) -> None:
    return None


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Callable[[argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] = _no_arguments
    description: str | None = None

    def add_to(self, commands: Any, common: argparse.ArgumentParser) -> None:
        """Add the command to build.py's subcommands (`commands`), with the common options."""
        options: dict[str, Any] = {"description": self.description} if self.description else {}
        self.arguments(commands.add_parser(self.name, parents=[common], help=self.help, **options))
