#!/usr/bin/env python3
"""Bürgerportal: the one entry point.

python build.py                   validate, then build every municipality into output/
python build.py check             validate only; exit 1 with every error listed
python build.py serve [--port N]  build, then serve all sites on http://127.0.0.1:N/
python build.py schema            write schema/*.schema.json (JSON Schema for editors)
python build.py migrate           create or upgrade the database (DATABASE_URL, default SQLite under var/)
python build.py worker            send queued mail and deliveries (the outbox), until stopped
python build.py staff SLUG USER [--name "Anzeige Name"]  a clerk's login, new or with a new password
                                  (password from STAFF_PASSWORD, else asked)
--only SLUG, --out DIR, --content DIR
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from dynamic.config import ConfigError
from dynamic.db import NotMigrated
from generator.errors import BuildError, ContentError

ROOT = Path(__file__).resolve().parent
EXIT_OK, EXIT_CONTENT, EXIT_BUILD = 0, 1, 2


def parse_args(argv: list[str]) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--content", type=Path, default=ROOT / "content", help="content folder (default: content/)")
    common.add_argument("--out", type=Path, default=ROOT / "output", help="output folder (default: output/)")
    common.add_argument("--only", metavar="SLUG", help="build only this municipality")
    common.add_argument("--base-url", default=None, help="public address of the portal, for sitemap and feeds")
    parser = argparse.ArgumentParser(prog="build.py", description="Build the Bürgerportal sites.", parents=[common])
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("build", parents=[common], help="validate and build (the default)")
    commands.add_parser("check", parents=[common], help="validate the content only")
    schema = commands.add_parser("schema", parents=[common], help="write the JSON Schema files for editors")
    schema.add_argument("--schema-dir", type=Path, default=ROOT / "schema")
    search = commands.add_parser("search", parents=[common], help="query a built search index")
    search.add_argument("slug")
    search.add_argument("query")
    search.add_argument("--limit", type=int, default=10)
    serve = commands.add_parser("serve", parents=[common], help="build, then serve on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--no-watch", action="store_true", help="do not rebuild when content changes")
    commands.add_parser("migrate", parents=[common], help="create or upgrade the database (DATABASE_URL)")
    commands.add_parser("worker", parents=[common], help="process the outbox (mail) until stopped")
    staff = commands.add_parser("staff", parents=[common], help="create a staff login or set its password")
    staff.add_argument("slug")
    staff.add_argument("username")
    staff.add_argument("--name", default=None, help="name shown in the staff area")
    office = commands.add_parser("office", parents=[common],
                                 help="register an office that receives applications (prints its API token)")
    office.add_argument("slug")
    office.add_argument("unit", help="the unit id of the office in the municipality's content")
    office.add_argument("--public-key", type=Path, required=True, help="the office's public key (JWK, RSA)")
    office.add_argument("--webhook", default=None, help="https address the portal pushes new applications to")
    return parser.parse_args(argv)


def report_content_errors(error: ContentError) -> None:
    for problem in error.problems:
        print(problem, file=sys.stderr)
    print(f"{len(error.problems)} error(s); nothing was built.", file=sys.stderr)


def run_build(args: argparse.Namespace, cache: object = None) -> None:
    from generator.build import DEFAULT_BASE_URL, build

    started = time.perf_counter()
    results = build(args.content, args.out, only=args.only, base_url=args.base_url or DEFAULT_BASE_URL, cache=cache)  # type: ignore[arg-type]
    for r in results:
        for warning in r.warnings:
            print(f"{r.slug}: warning: {warning}", file=sys.stderr)
    for r in results:
        print(
            f"{r.slug}: {r.pages} files ({r.rendered} rendered, {r.reused} unchanged), "
            f"{len(r.warnings)} warning(s), {r.seconds:.2f} s"
        )
    print(f"built {len(results)} site(s) into {args.out} in {time.perf_counter() - started:.2f} s")


def run_search(args: argparse.Namespace) -> int:
    """Answer from the exported files, as the browser does: kind, title, URL per line."""
    from search_index.query import Index

    folder = args.out / args.slug / "suche"
    if not (folder / "meta.json").is_file():
        print(
            f"no search index at {folder}: build the site first (python build.py --only {args.slug})", file=sys.stderr
        )
        return EXIT_BUILD
    for hit in Index.from_folder(folder).search(args.query, limit=args.limit):
        print(f"{hit.kind}\t{hit.title}\t{hit.url}")
    return EXIT_OK


def serve_and_rebuild(args: argparse.Namespace) -> None:
    """Build, serve, and rebuild whenever content or templates change."""
    from dynamic.serve import serve
    from generator.build import THEME, build
    from generator.load import ParseCache
    from generator.watch import start_watching

    cache = ParseCache(None)
    rebuild = lambda: build(args.content, args.out, only=args.only, base_url=args.base_url, cache=cache)  # noqa: E731
    run_build(args, cache)
    if not args.no_watch:
        start_watching([args.content, THEME], rebuild)
    serve(args.out, host=args.host, port=args.port, base_url=args.base_url)


def register_office(args: argparse.Namespace) -> int:
    """Register (or re-key) an office: its public key encrypts the applications it receives;
    the token printed once is its key to the office API."""
    import json

    from dynamic import create_app
    from dynamic.config import settings_from_env
    from dynamic.db import session_scope
    from dynamic.forms.delivery import register_office as register

    katalog = args.out / args.slug / "katalog.json"
    units = json.loads(katalog.read_text(encoding="utf-8"))["units"] if katalog.is_file() else None
    if units is None or args.unit not in units:
        print(f"Fehler: keine Stelle {args.unit!r} in {katalog} (erst bauen, dann die Kennung prüfen)",
              file=sys.stderr)
        return EXIT_CONTENT
    try:
        public_jwk = json.loads(args.public_key.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"Fehler: {args.public_key}: kein lesbarer JWK ({error})", file=sys.stderr)
        return EXIT_CONTENT
    if args.webhook is not None and not args.webhook.startswith(("https://", "http://127.0.0.1")):
        print("Fehler: --webhook braucht eine https://-Adresse", file=sys.stderr)
        return EXIT_CONTENT
    app = create_app(settings_from_env(output_dir=args.out))
    try:
        with session_scope(app) as session:
            office, token = register(session, args.slug, args.unit, public_jwk, args.webhook)
            secret = office.webhook_secret
    except ValueError as error:
        print(f"Fehler: {args.public_key}: {error}", file=sys.stderr)
        return EXIT_CONTENT
    print(f"Stelle {args.slug}/{args.unit} registriert.")
    print(f"API-Token (wird nur jetzt angezeigt): {token}")
    if secret:
        print(f"Webhook-Geheimnis (Signatur X-Buergerportal-Signature): {secret}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = args.command or "build"
    try:
        if command == "check":
            from generator.build import check

            valid = check(args.content)
            print(f"content OK: {len(valid.services)} services, {len(valid.municipalities)} municipalities")
        elif command == "build":
            run_build(args)
        elif command == "search":
            return run_search(args)
        elif command == "schema":
            from generator.schema import write_schemas

            for path in write_schemas(args.schema_dir):
                print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        elif command == "migrate":
            from dynamic.serve import migrate_database

            print(f"database migrated: {migrate_database()}")
        elif command == "staff":
            from dynamic.staff_accounts import StaffAccountError, ask_password, save_staff_user

            try:
                print(save_staff_user(args.slug, args.username, ask_password(args.username), args.name, args.out))
            except StaffAccountError as error:
                print(f"Fehler: {error}", file=sys.stderr)
                return EXIT_CONTENT
        elif command == "office":
            return register_office(args)
        elif command == "worker":
            from dynamic import create_app
            from dynamic.mail import run_worker

            logging.getLogger().setLevel(logging.INFO)
            run_worker(create_app())
        elif command == "serve":
            if args.base_url is None:
                args.base_url = f"http://{args.host}:{args.port}"
            serve_and_rebuild(args)
    except ContentError as error:
        report_content_errors(error)
        return EXIT_CONTENT
    except BuildError as error:
        print(f"build failed: {error}", file=sys.stderr)
        return EXIT_BUILD
    except (ConfigError, NotMigrated) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BUILD
    except KeyboardInterrupt:
        return 130
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
