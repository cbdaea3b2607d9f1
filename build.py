#!/usr/bin/env python3
"""Bürgerportal: the one entry point.

python build.py                   validate, then build every municipality into output/
python build.py check             validate only; exit 1 with every error listed
        [--format text|github]    github: each problem as a GitHub Actions annotation
        [--strict]                warnings (valid, but probably not meant) fail the check like errors
        [--links]                 also ask every external https link (dead links are warnings)
        [--strict-links]          dead or unreachable links fail the check (implies --links)
        [--links-cache-hours H]   answers kept in OUT/.cache/links.json for H hours (default 24)
        [--verbose]               every warning at its file and line (without it: one line per municipality)
        [--max-age-months N]      a check date (geprueft_am) older than N months is a warning (default 12)
python build.py bericht [--only SLUG] [--max-age-months N]
                                  per municipality: what is sourced, stale or an example; services
                                  without a LeiKa key, a Leichte-Sprache text or opening hours
python build.py new service|location|contact|form ID [--municipality SLUG] [--service SERVICE]
                                  write a skeleton content file with every field explained
python build.py serve [--port N]  build, then serve all sites on http://127.0.0.1:N/
python build.py schema            write schema/*.schema.json (JSON Schema for editors)
python build.py migrate           create or upgrade the database (DATABASE_URL, default SQLite under var/)
python build.py worker            send queued mail and deliveries (the outbox), until stopped
python build.py staff SLUG USER [--name "Anzeige Name"]  a clerk's login, new or with a new password
                                  (password from STAFF_PASSWORD, else asked)
python build.py office SLUG UNIT --public-key FILE [--webhook URL]   register an office, print its API token
        [--replace-key]           replace a different registered key (refused without it)
        [--new-token]             a new token only; [--webhook URL | --no-webhook] the webhook only
        [--fit-connect DESTINATION | --own-api]  deliver through FIT-Connect (destination id or 'routing'), or not
--only SLUG, --out DIR, --content DIR
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from dynamic.config import ConfigError
from dynamic.db import NotMigrated
from generator.errors import BuildError, ContentError, Problem

if TYPE_CHECKING:
    from dynamic.forms.delivery import Waiting

ROOT = Path(__file__).resolve().parent
EXIT_OK, EXIT_CONTENT, EXIT_BUILD = 0, 1, 2


def _common_options(with_defaults: bool) -> argparse.ArgumentParser:
    def default(value: object) -> object:
        return value if with_defaults else argparse.SUPPRESS

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--content", type=Path, default=default(ROOT / "content"),
                        help="content folder (default: content/)")
    common.add_argument("--out", type=Path, default=default(ROOT / "output"), help="output folder (default: output/)")
    common.add_argument("--only", metavar="SLUG", default=default(None), help="build only this municipality")
    common.add_argument("--base-url", default=default(None), help="public address of the portal, for sitemap and feeds")
    return common


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="build.py", description="Build the Bürgerportal sites.",
                                     parents=[_common_options(with_defaults=True)])
    # The same options after the command; without defaults there, so that `build.py --out X check`
    # and `build.py check --out X` mean the same.
    common = _common_options(with_defaults=False)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("build", parents=[common], help="validate and build (the default)")
    check = commands.add_parser("check", parents=[common], help="validate the content only")
    check.add_argument("--format", choices=["text", "github"], default="text",
                       help="text: path:line: field: message (default); github: GitHub Actions annotations")
    check.add_argument("--strict", action="store_true",
                       help="warnings (valid, but probably not meant: a unit without a location) are errors, "
                            "each at its file and line; exit 1")
    check.add_argument("--links", action="store_true",
                       help="also check every external https link; dead links are warnings")
    check.add_argument("--strict-links", action="store_true",
                       help="dead links and hosts that do not answer fail the check (implies --links)")
    check.add_argument("--links-cache-hours", type=float, default=24.0, metavar="HOURS",
                       help="reuse link answers younger than this from OUT/.cache/links.json (default 24; 0: ask all)")
    check.add_argument("--verbose", action="store_true",
                       help="list every warning at its file and line (default: one summary line per municipality)")
    check.add_argument("--max-age-months", type=int, default=12, metavar="N",
                       help="a check date (geprueft_am) older than N months is a warning (default 12)")
    bericht = commands.add_parser(
        "bericht", parents=[common], help="report per municipality what is sourced, stale or an example",
        description="Für die Redaktion, je Kommune: Dateien und Werte mit Quellenangabe, veraltete Prüfungen, "
        "Beispielangaben, Leistungen ohne LeiKa-Schlüssel, ohne Text in Leichter Sprache und ohne Öffnungszeiten "
        "der zuständigen Stelle. Exit 0 (1 nur bei Fehlern im Inhalt).")
    bericht.add_argument("--max-age-months", type=int, default=12, metavar="N",
                         help="a check date (geprueft_am) older than N months counts as stale (default 12)")
    new = commands.add_parser(
        "new", parents=[common], help="write a skeleton content file with every field explained",
        description="Write a skeleton YAML file: required fields with placeholders (TODO …) that pass check, "
        "optional fields commented out, every field explained in German from the schema. Never overwrites.",
        epilog="Files: service → CONTENT/services/ID.yaml, form → CONTENT/forms/ID.yaml, location and contact → "
        "CONTENT/municipalities/SLUG/locations|contacts/ID.yaml (needs --municipality). A form belongs to a "
        "service: --service SERVICE (default: the service with the form's own id); it must exist, the form takes "
        "its online.trust_level, and until the service names the form (online.form: ID) check reports that. "
        "A contact's unit starts as the municipality's general office. Exit 1 when the file exists or the id, "
        "municipality or service is not valid.",
    )
    new.add_argument("kind", choices=["service", "location", "contact", "form"])
    new.add_argument("id", help="the new file's id: lowercase letters, digits, hyphens (e.g. hund-anmelden)")
    new.add_argument("--municipality", metavar="SLUG", help="for location and contact: the municipality's folder")
    new.add_argument("--service", metavar="SERVICE", help="for form: the service it belongs to (default: ID)")
    schema = commands.add_parser("schema", parents=[common], help="write the JSON Schema files for editors")
    schema.add_argument("--schema-dir", type=Path, default=ROOT / "schema")
    search = commands.add_parser("search", parents=[common], help="query a built search index")
    search.add_argument("slug")
    search.add_argument("query")
    search.add_argument("--limit", type=int, default=10)
    serve = commands.add_parser("serve", parents=[common], help="build, then serve on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--watch", action="store_true",
                       help="rebuild when content changes and reload open pages (the default)")
    serve.add_argument("--no-watch", action="store_true", help="do not rebuild when content changes")
    commands.add_parser("migrate", parents=[common], help="create or upgrade the database (DATABASE_URL)")
    commands.add_parser("worker", parents=[common], help="process the outbox (mail) until stopped")
    staff = commands.add_parser("staff", parents=[common], help="create a staff login or set its password")
    staff.add_argument("slug")
    staff.add_argument("username")
    staff.add_argument("--name", default=None, help="name shown in the staff area")
    office = commands.add_parser(
        "office", parents=[common],
        help="register an office that receives applications (prints its API token), or change its key, token "
             "or webhook",
        description="Register an office (--public-key, prints its API token once) or change one thing of a "
                    "registered office. A different key is refused unless --replace-key; the same key is kept and "
                    "gets a new token, as --new-token does. --webhook and --no-webhook change only the webhook. "
                    "Without options: what is registered and waiting.")
    office.add_argument("slug")
    office.add_argument("unit", help="the unit id of the office in the municipality's content")
    office.add_argument("--public-key", type=Path, default=None,
                        help="the office's public key (JWK, RSA); required for a new office")
    office.add_argument("--replace-key", action="store_true",
                        help="replace a registered key that differs from --public-key (applications still waiting "
                             "need the old private key)")
    office.add_argument("--new-token", action="store_true", help="a new API token; the old one stops working at once")
    webhook = office.add_mutually_exclusive_group()
    webhook.add_argument("--webhook", default=None, help="https address the portal pushes new applications to")
    webhook.add_argument("--no-webhook", action="store_true", help="push no more (remove the webhook)")
    channel = office.add_mutually_exclusive_group()
    channel.add_argument("--fit-connect", default=None, metavar="DESTINATION",
                         help="deliver through FIT-Connect to this destination id (UUID), or 'routing' to find the "
                              "destination by the service's LeiKa key and the town's regional key")
    channel.add_argument("--own-api", action="store_true", help="deliver through the office API only (the default)")
    return parser.parse_args(argv)


def report_content_errors(error: ContentError) -> None:
    for problem in error.problems:
        print(problem, file=sys.stderr)
    print(f"{len(error.problems)} error(s); nothing was built.", file=sys.stderr)


def github_escape(text: str, prop: bool = False) -> str:
    """Escape a workflow command's message, or with prop=True one of its properties."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def github_annotation(level: str, problem: Problem) -> str:
    """A problem as a GitHub Actions annotation: ::error file=…,line=…,title=field::message"""
    props = [f"file={github_escape(problem.path, True)}", f"line={problem.line}"]
    if problem.field:
        props.append(f"title={github_escape(problem.field, True)}")
    return f"::{level} {','.join(props)}::{github_escape(problem.message)}"


def run_check(args: argparse.Namespace) -> int:
    """Validate; with --strict warnings count as errors; with --links also ask the external links.
    Problems in the chosen format."""
    from generator.pipeline import check

    github = args.format == "github"
    status = EXIT_OK
    try:
        valid = check(args.content, max_age_months=args.max_age_months)
        if args.strict and valid.warnings():
            raise ContentError(valid.warnings())
        print(f"content OK: {len(valid.services)} services, {len(valid.municipalities)} municipalities")
        report_warnings(valid, args.verbose, args.max_age_months)
    except ContentError as error:
        status = EXIT_CONTENT
        if github:
            for problem in error.problems:
                print(github_annotation("error", problem))
            print(f"{len(error.problems)} error(s); nothing was built.", file=sys.stderr)
        else:
            report_content_errors(error)
    if args.links or args.strict_links:
        from generator.links import check_links

        report = check_links(args.content, cache_file=args.out / ".cache" / "links.json",
                             max_age_hours=args.links_cache_hours)
        level = "error" if args.strict_links else "warning"
        for problem in sorted(report.dead + report.flaky):
            if github:
                print(github_annotation(level, problem))
            else:
                print(problem, file=sys.stderr)
        counted = "errors (--strict-links)" if args.strict_links else "warnings"
        print(f"links: {report.links} checked ({report.links - report.asked} from cache), {len(report.dead)} dead, "
              f"{len(report.flaky)} not reachable; {counted}", file=sys.stderr)
        if args.strict_links and (report.dead or report.flaky):
            status = EXIT_CONTENT
    return status


# How `check` counts the provenance warnings in its summary (by message id): singular, plural.
SUMMARY_WORDS = {
    "ohne-quellenangabe": ("Datei ohne Quellenangabe", "Dateien ohne Quellenangabe"),
    "pruefdatum-fehlt": ("Datei mit Quellen, aber ohne Prüfdatum", "Dateien mit Quellen, aber ohne Prüfdatum"),
    "pruefung-veraltet": ("Datei seit mehr als {n} Monaten nicht geprüft", "Dateien seit mehr als {n} Monaten "
                          "nicht geprüft"),
    "beispielperson-mit-echter-nummer": ("Beispielperson mit echter Telefonnummer",
                                         "Beispielpersonen mit echter Telefonnummer"),
}


def _summary(source_warnings: dict[str, list[Problem]], others: int, max_age_months: int) -> str:
    parts = []
    for message_id, (one, many) in SUMMARY_WORDS.items():
        count = len(source_warnings.get(message_id, ()))
        if count:
            parts.append(f"{count} {(one if count == 1 else many).format(n=max_age_months)}")
    if others:
        parts.append(f"{others} weitere Warnung{'' if others == 1 else 'en'}")
    return ", ".join(parts)


def report_warnings(valid: object, verbose: bool, max_age_months: int) -> None:
    """What is valid but probably not meant, on stderr: with verbose each warning at its file and
    line, otherwise one line per municipality (and one for the shared files), so that hundreds
    of files without a source do not drown what an editor has to fix."""
    from generator.validation import ValidContent

    assert isinstance(valid, ValidContent)
    warnings = valid.warnings()
    if not warnings:
        return
    if verbose:
        for problem in warnings:
            print(f"{problem} (warning)", file=sys.stderr)
        print(f"{len(warnings)} warning(s); with --strict they fail the check.", file=sys.stderr)
        return
    print("Warnungen (die Prüfung ist bestanden; jede einzeln: --verbose; als Fehler: --strict; "
          "Überblick: build.py bericht):", file=sys.stderr)
    shared = _summary(valid.source_warnings, 0, max_age_months)
    if shared:
        print(f"  gemeinsame Leistungen: {shared}", file=sys.stderr)
    for slug, content in sorted(valid.municipalities.items()):
        line = _summary(content.source_warnings, len(content.warnings), max_age_months)
        if line:
            print(f"  {slug}: {line}", file=sys.stderr)


def run_report(args: argparse.Namespace) -> int:
    """The editors' report on sources and gaps (build.py bericht)."""
    from generator.pipeline import check
    from generator.report import report
    from generator.resolve import resolve

    valid = check(args.content, max_age_months=args.max_age_months)
    if args.only is not None and args.only not in valid.municipalities:
        print(f"Fehler: keine Kommune {args.only!r} (vorhanden: {', '.join(sorted(valid.municipalities))})",
              file=sys.stderr)
        return EXIT_CONTENT
    for line in report(valid, resolve(valid), args.only, max_age_months=args.max_age_months):
        print(line)
    return EXIT_OK


def run_new(args: argparse.Namespace) -> int:
    from generator.skeleton import SkeletonError, write_skeleton

    try:
        written = write_skeleton(args.content, args.kind, args.id, args.municipality, args.service)
    except SkeletonError as error:
        print(f"Fehler: {error}", file=sys.stderr)
        return EXIT_CONTENT
    path = written.path
    shown = path.relative_to(args.content.parent) if path.is_relative_to(args.content.parent) else path
    print(f"angelegt: {shown}")
    for note in written.notes:
        print(f"Hinweis: {note}")
    print("Weiter: Platzhalter (TODO …) ersetzen, dann prüfen: python build.py check")
    return EXIT_OK


def run_build(args: argparse.Namespace, cache: object = None) -> None:
    from generator.pipeline import DEFAULT_BASE_URL, build

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
    from generator.load import ParseCache
    from generator.pipeline import THEME, build
    from generator.watch import start_watching

    cache = ParseCache(None)
    run_build(args, cache)
    watching = args.watch or not args.no_watch
    if watching:
        from dynamic.live_reload import rebuilt, viewed

        def rebuild_and_tell() -> None:
            # The site the editor looks at first; each open page reloads once its site is live.
            build(args.content, args.out, only=args.only, base_url=args.base_url, cache=cache, first=viewed(),
                  site_built=rebuilt)

        start_watching([args.content, THEME], rebuild_and_tell)
    serve(args.out, host=args.host, port=args.port, base_url=args.base_url, live_reload=watching)


def _waiting_line(prefix: str, waiting: Waiting | None) -> str:
    applications, messages = (waiting.applications, waiting.messages) if waiting else (0, 0)
    return f'{prefix}: {applications} application(s) with status "new", {messages} citizen message(s) not fetched.'


def register_office(args: argparse.Namespace) -> int:
    """Register an office (its public key encrypts the applications it receives; the token
    printed once is its key to the office API), or change its key, token or webhook: a
    different key only with --replace-key, nothing else touched than what was asked."""
    import json

    from dynamic import create_app
    from dynamic.config import settings_from_env
    from dynamic.db import session_scope
    from dynamic.forms.delivery import KeyConflict, NoOffice, change_office, kid_of, waiting_under
    from dynamic.forms.fitconnect import describe_channel, is_destination_id, switch_channel

    out = args.out
    if out == ROOT / "output" and os.environ.get("PORTAL_OUTPUT_DIR"):
        out = Path(os.environ["PORTAL_OUTPUT_DIR"])  # as the app itself reads it, unless --out says otherwise
    katalog = out / args.slug / "katalog.json"
    units = json.loads(katalog.read_text(encoding="utf-8"))["units"] if katalog.is_file() else None
    if units is None or args.unit not in units:
        print(f"Fehler: keine Stelle {args.unit!r} in {katalog} (erst bauen, dann die Kennung prüfen)",
              file=sys.stderr)
        return EXIT_CONTENT
    if args.replace_key and args.public_key is None:
        print("error: --replace-key needs --public-key (the new key)", file=sys.stderr)
        return EXIT_CONTENT
    public_jwk = None
    if args.public_key is not None:
        try:
            public_jwk = json.loads(args.public_key.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            print(f"Fehler: {args.public_key}: kein lesbarer JWK ({error})", file=sys.stderr)
            return EXIT_CONTENT
    if args.webhook is not None and not args.webhook.startswith(("https://", "http://127.0.0.1")):
        print("Fehler: --webhook braucht eine https://-Adresse", file=sys.stderr)
        return EXIT_CONTENT
    name = f"{args.slug}/{args.unit}"
    # Registering with a key gives a new token, as it always has (a leaked token is replaced so).
    new_token = args.new_token or public_jwk is not None
    if args.fit_connect is not None and args.fit_connect != "routing" and not is_destination_id(args.fit_connect):
        print(f"Fehler: --fit-connect braucht die Zustellpunkt-ID (UUID) oder 'routing', nicht {args.fit_connect!r}",
              file=sys.stderr)
        return EXIT_CONTENT
    channel_asked = args.fit_connect is not None or args.own_api
    nothing_asked = (public_jwk is None and not new_token and args.webhook is None and not args.no_webhook
                     and not channel_asked)
    app = create_app(settings_from_env(output_dir=out))
    settings = app.config["PORTAL"]
    no_sender = args.fit_connect is not None and not settings.fitconnect_client_id
    if no_sender and settings.production:
        app.extensions["db_engine"].dispose()
        print("error: --fit-connect needs the portal's FIT-Connect sender client (FITCONNECT_CLIENT_ID, "
              "FITCONNECT_CLIENT_SECRET and the endpoints); nothing was changed", file=sys.stderr)
        return EXIT_CONTENT
    try:
        with session_scope(app) as session:
            change = change_office(session, args.slug, args.unit, public_jwk=public_jwk,
                                   replace_key=args.replace_key, new_token=new_token, webhook_url=args.webhook,
                                   remove_webhook=args.no_webhook)
            office = change.office
            if channel_asked:
                switch_channel(office, None if args.own_api else args.fit_connect)
            kid, webhook_url, channel = kid_of(office.public_jwk), office.webhook_url, describe_channel(office)
            waiting = waiting_under(session, office, kid) if nothing_asked else None
    except NoOffice:
        print(f"error: {name} is not registered yet: a new office needs --public-key (its public key, JWK)",
              file=sys.stderr)
        return EXIT_CONTENT
    except KeyConflict as conflict:
        print(f"error: {name} is registered with a different key (kid {conflict.old_kid}); "
              f"the new one has kid {conflict.new_kid}.", file=sys.stderr)
        print(_waiting_line("Still waiting under the old key", conflict.waiting), file=sys.stderr)
        print("Nothing was changed. To replace the key, run the command again with --replace-key; what is waiting "
              f"can then be read only with the old private key (kid {conflict.old_kid}).", file=sys.stderr)
        return EXIT_CONTENT
    except ValueError as error:
        print(f"Fehler: {args.public_key}: {error}", file=sys.stderr)
        return EXIT_CONTENT
    finally:
        app.extensions["db_engine"].dispose()

    if public_jwk is not None:
        print(f"Stelle {name} registriert.")
    elif nothing_asked:
        print(f"Office {name}: nothing changed (options: --public-key, --new-token, --webhook, --no-webhook).")
    else:
        print(f"Office {name} updated.")
    if change.key == "new":
        print(f"Key: kid {kid}.")
    elif change.key == "replaced":
        print(f"Key replaced: kid {change.old_kid} → kid {kid}.")
        print(_waiting_line("Still waiting under the old key", change.waiting))
        print(f"They can be read only with the old private key (kid {change.old_kid}): "
              "the office keeps it until they are fetched.")
    else:
        print(f"Key unchanged (kid {kid}).")
    if waiting is not None:
        print(_waiting_line("Waiting under this key", waiting))
    if change.token:
        print(f"API-Token (wird nur jetzt angezeigt): {change.token}")
        if not change.created:
            print("The old token no longer works.")
    else:
        print("Token unchanged.")
    if change.webhook == "set":
        if not change.created:
            print(f"Webhook set: {webhook_url}")
        print(f"Webhook-Geheimnis (Signatur X-Buergerportal-Signature): {change.webhook_secret}")
    elif change.webhook == "removed":
        print("Webhook removed.")
    elif not change.created:
        print(f"Webhook unchanged ({webhook_url or 'none'}).")
    if channel_asked:
        print(f"Delivery switched: {channel}.")
        if args.fit_connect is not None:
            print(f"The FIT-Connect destination must publish this office's key (kid {kid}) as its encryption key.")
        if no_sender:
            print("Warning: FITCONNECT_CLIENT_ID is not set; applications wait in the outbox until the sender "
                  "client is configured.")
    elif channel != "office API":
        print(f"Delivery: {channel}.")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = args.command or "build"
    try:
        if command == "check":
            return run_check(args)
        elif command == "new":
            return run_new(args)
        elif command == "bericht":
            return run_report(args)
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
