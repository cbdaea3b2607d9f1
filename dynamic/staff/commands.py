"""`build.py staff SLUG USER [--name NAME]`: a clerk's login, new or with a new password."""

from __future__ import annotations

import argparse
import sys

from ..platform.commands import EXIT_INPUT, EXIT_OK, Command


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("slug")
    parser.add_argument("username")
    parser.add_argument("--name", default=None, help="name shown in the staff area")


def _run(args: argparse.Namespace) -> int:
    from .accounts import StaffAccountError, ask_password, save_staff_user

    try:
        print(save_staff_user(args.slug, args.username, ask_password(args.username), args.name, args.out))
    except StaffAccountError as error:
        print(f"Fehler: {error}", file=sys.stderr)
        return EXIT_INPUT
    return EXIT_OK


STAFF = Command("staff", "create a staff login or set its password", _run, _arguments)
