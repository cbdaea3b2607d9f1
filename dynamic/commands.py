"""The operator commands of the dynamic tier, in the order `build.py --help` lists them:
each is defined by the package it belongs to."""

from __future__ import annotations

import argparse

from .forms.commands import OFFICE
from .platform.commands import EXIT_OK, Command
from .staff.commands import STAFF


def _migrate(_args: argparse.Namespace) -> int:
    from .serve import migrate_database

    print(f"database migrated: {migrate_database()}")
    return EXIT_OK


def _worker(_args: argparse.Namespace) -> int:
    import logging

    from . import create_app
    from .platform.outbox import run_worker

    logging.getLogger().setLevel(logging.INFO)
    run_worker(create_app())
    return EXIT_OK


MIGRATE = Command("migrate", "create or upgrade the database (DATABASE_URL)", _migrate)
WORKER = Command("worker", "process the outbox (mail) until stopped", _worker)


def operator_commands() -> list[Command]:
    return [MIGRATE, WORKER, STAFF, OFFICE]
