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
import sys
import time
from pathlib import Path

from dynamic.commands import operator_commands
from dynamic.platform.config import ConfigError
from dynamic.platform.db import NotMigrated
from generator.errors import BuildError, ContentError, Problem

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
    for command in operator_commands():
        command.add_to(commands, common)
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
    "synonym-wie-schreibfehler": ("Synonym, das wie ein Schreibfehler aussieht",
                                  "Synonyme, die wie Schreibfehler aussehen"),
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


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = args.command or "build"
    operator = {command.name: command for command in operator_commands()}
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
        elif command in operator:
            code = operator[command].run(args)
            if code:
                return code
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
