"""MkDocs hooks of the handbook: what the code already says is read from the code.

Registered in mkdocs.yml (`hooks:`). When the handbook is built, this module

- writes one reference page per kind of content file from the JSON Schema of
  generator/models/ (`json_schemas()`, `KINDS`), with the defaults of the same models;
- renders the catalogue of messages (generator/messages.yaml: every message of the checker,
  with an example and its fix) into its page, and the keys of katalog.json from the JSON Schema
  of the models in katalog/ (with the history of its versions from docs/katalog.yaml);
- builds the table of environment variables from the Settings dataclass of
  dynamic/platform/config.py (each field's trailing comment `# NAME: meaning`, the ENVIRONMENT map);
- includes real files (deploy/…, docs/beispiele/…) into pages, so that they are written once;
- gives the readthedocs theme its German labels from the theme's own translation file
  (the standard library reads it; no Babel needed).

A page asks for generated text with an HTML comment, for a block on a line of its own:
`<!-- erzeugen: NAME -->` (see GENERATORS; `felder:KIND/FIELD` for a short table of one
part) or `<!-- einbinden: PATH -->` (a file below the repository root). An unknown name, a
missing file, or code and documentation that disagree stop the build with a message that
says what to fix.
"""

from __future__ import annotations

import ast
import dataclasses
import gettext
import html
import io
import posixpath
import re
import sys
import tokenize
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REFERENCE_DIR = "redaktion/referenz"
REFERENCE_INDEX = f"{REFERENCE_DIR}/index.md"
KATALOG_FILE = HERE / "katalog.yaml"
CONFIG_SOURCE = ROOT / "dynamic" / "platform" / "config.py"

# How the handbook names each kind of content file: (page name, title). A new kind in
# generator/models/ KINDS needs an entry here, or the build stops.
KIND_PAGES: dict[str, tuple[str, str]] = {
    "service": ("leistung", "Leistung"),
    "local-service": ("lokale-leistung", "Örtliche Ergänzung einer Leistung"),
    "life-situation": ("lebenslage", "Lebenslage"),
    "form": ("formular", "Online-Formular"),
    "municipality": ("kommune", "Kommune"),
    "unit": ("organisationseinheit", "Organisationseinheit"),
    "location": ("standort", "Standort"),
    "contact": ("ansprechperson", "Ansprechperson"),
    "everyday-words": ("alltagswoerter", "Alltagswörter der Suche"),
    "portal": ("betreiber", "Betreiber des Portals"),
    "best-bets": ("beste-treffer", "Beste Treffer der Suche"),
}

# A valid file of each kind, shown under its reference (the tests validate these files).
KIND_EXAMPLES: dict[str, str] = {
    "service": "tests/fixtures/content/services/personalausweis-beantragen.yaml",
    "local-service": "tests/fixtures/content/municipalities/stadt/services/personalausweis-beantragen.yaml",
    "life-situation": "tests/fixtures/content/life-situations/umzug.yaml",
    "form": "tests/fixtures/content/forms/meldebescheinigung.yaml",
    "municipality": "tests/fixtures/content/municipalities/kreis/municipality.yaml",
    "unit": "tests/fixtures/content/municipalities/stadt/units/buergeramt.yaml",
    "location": "tests/fixtures/content/municipalities/stadt/locations/rathaus.yaml",
    "contact": "tests/fixtures/content/municipalities/stadt/contacts/erika-beispiel.yaml",
    "everyday-words": "content/search/everyday-words.yaml",
    "portal": "content/portal.yaml",
    "best-bets": "content/search/best-bets.yaml",
}

# Content files kept outside content/ for the handbook; shown under the path they would have there.
CONTENT_COPIES = {
    "docs/beispiele/inhalte/": "Beispiel für",
    "tests/fixtures/content/": "Aus den Testdaten,",
}

LANGUAGES = {".conf": "nginx", ".service": "ini", ".yml": "yaml", ".yaml": "yaml", ".md": "markdown",
             ".py": "python", ".json": "json", ".env": "sh"}

MARKER = re.compile(r"<!--\s*(einbinden|erzeugen):\s*(\S+)\s*-->")


# ---------------------------------------------------------------- MkDocs events


def on_config(config: Any) -> Any:
    """Put one navigation entry per reference page where mkdocs.yml names the reference index."""
    entries = [{"Übersicht": REFERENCE_INDEX}] + [
        {title: f"{REFERENCE_DIR}/{name}.md"} for name, title in _kind_pages().values()
    ]
    if config.nav is not None and not _expand_nav(config.nav, entries):
        raise PluginError(f"mkdocs.yml: nav must name {REFERENCE_INDEX} (the generated reference goes there)")
    return config


def on_files(files: Files, config: Any) -> Files:
    for kind, text in reference_pages().items():
        name, _title = _kind_pages()[kind]
        files.append(File.generated(config, f"{REFERENCE_DIR}/{name}.md", content=text))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    here = posixpath.dirname(page.file.src_uri)

    def replace(match: re.Match[str]) -> str:
        action, argument = match.group(1), match.group(2)
        if action == "einbinden":
            return include_file(argument)
        if argument.startswith("felder:"):
            return field_summary(argument.removeprefix("felder:"), here)
        generator = GENERATORS.get(argument)
        if generator is None:
            raise PluginError(f"{page.file.src_uri}: unknown generated part '{argument}' "
                              f"(known: {', '.join(sorted(GENERATORS))})")
        return generator(here)

    return MARKER.sub(replace, markdown)


def on_env(env: Any, config: Any, files: Files) -> Any:
    """The theme's German labels ("Weiter", "Suche") from its own .mo file."""
    locale = str(config.theme.get("locale") or "en")
    for theme_dir in config.theme.dirs:
        catalog = Path(theme_dir) / "locales" / locale / "LC_MESSAGES" / "messages.mo"
        if catalog.is_file():
            with catalog.open("rb") as handle:
                translations = gettext.GNUTranslations(handle)
            env.globals.update(gettext=translations.gettext, ngettext=translations.ngettext, _=translations.gettext)
            break
    return env


def _expand_nav(nav: list[Any], entries: list[dict[str, str]]) -> bool:
    for index, item in enumerate(nav):
        if isinstance(item, dict):
            for title, value in item.items():
                if value == REFERENCE_INDEX:
                    nav[index] = {title: entries}
                    return True
                if isinstance(value, list) and _expand_nav(value, entries):
                    return True
    return False


# ---------------------------------------------------------------- small helpers


def code(text: object) -> str:
    """Inline code; Markdown tables keep a pipe inside a code span in its cell."""
    shown = str(text)
    ticks = "``" if "`" in shown else "`"
    return f"{ticks} {shown} {ticks}" if ticks == "``" else f"`{shown}`"


def cell(text: object) -> str:
    """Plain text for a table cell or a paragraph: one line, no HTML, no cell-splitting pipe."""
    return html.escape(" ".join(str(text).split()), quote=False).replace("|", "\\|")


def fence(text: str, language: str = "") -> str:
    ticks = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{ticks}{language}\n{text.rstrip()}\n{ticks}"


def link(here: str, target: str) -> str:
    """A link from a page in folder `here` to `target` (a path below docs/, maybe with #anchor)."""
    path, _, anchor = target.partition("#")
    relative = posixpath.relpath(path, here or ".")
    return relative + (f"#{anchor}" if anchor else "")


def _kind_pages() -> dict[str, tuple[str, str]]:
    from generator.models import KINDS

    missing = sorted(set(KINDS) - set(KIND_PAGES))
    if missing:
        raise PluginError(f"docs/hooks.py: KIND_PAGES has no German page name and title for {', '.join(missing)}")
    return {kind: KIND_PAGES[kind] for kind in KINDS}


def include_file(relative: str) -> str:
    path = (ROOT / relative).resolve()
    if not path.is_relative_to(ROOT) or not path.is_file():
        raise PluginError(f"einbinden: {relative} is not a file of the repository")
    text = path.read_text(encoding="utf-8")
    language = LANGUAGES.get(path.suffix, "")
    if path.name.endswith(".env.beispiel") or (not path.suffix and text.startswith("#!/bin/sh")):
        language = "sh"
    caption = f"Datei {code(relative)}:"
    for folder, words in CONTENT_COPIES.items():
        if relative.startswith(folder):
            caption = f"{words} {code('content/' + relative.removeprefix(folder))}:"
    return f"{caption}\n\n" + fence(text, language)


# ---------------------------------------------------------------- schema reference

PATTERN_WORDS: dict[str, str] = {
    r"^99[0-9]{12}$": "genau 14 Ziffern, beginnt mit 99 (in Anführungszeichen)",
    r"^[0-9]{5}$": "5 Ziffern (in Anführungszeichen)",
    r"^[0-9]{8}$": "8 Ziffern (in Anführungszeichen)",
    r"^#[0-9a-fA-F]{6}$": "# und sechs Hexadezimalziffern, z. B. \"#005a9c\" (in Anführungszeichen)",
    r"^([01][0-9]|2[0-3]):[0-5][0-9]$": "Uhrzeit HH:MM, z. B. \"08:30\" (in Anführungszeichen)",
    r"^DE[0-9]{9}$": "DE und 9 Ziffern",
}


def pattern_words(pattern: str) -> str:
    from generator.models import ID_PATTERN

    if pattern == ID_PATTERN:
        return "Kennung aus Kleinbuchstaben, Ziffern und Bindestrichen, z. B. " + code("wohnsitz-anmelden")
    if pattern in PATTERN_WORDS:
        return cell(PATTERN_WORDS[pattern])
    if pattern.startswith("^https://"):
        return "Adresse, die mit " + code("https://") + " beginnt"
    if "@" in pattern:
        return "E-Mail-Adresse"
    return "Muster " + code(pattern)


def _ref_name(spec: dict[str, Any]) -> str | None:
    ref = spec.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _non_null(spec: dict[str, Any]) -> list[dict[str, Any]]:
    if "anyOf" in spec:
        return [s for s in spec["anyOf"] if s.get("type") != "null"]
    return [spec]


def type_words(spec: dict[str, Any]) -> str:
    ref = _ref_name(spec)
    if ref is not None:
        return f"Abschnitt ([Aufbau](#{ref.lower()}))"
    if "anyOf" in spec:
        return " oder ".join(type_words(s) for s in _non_null(spec))
    kind = spec.get("type")
    if kind == "array":
        items = spec.get("items", {})
        inner = "Abschnitte" if _ref_name(items) else type_words(items)
        ref = _ref_name(items)
        return f"Liste: {inner}" + (f" ([Aufbau](#{ref.lower()}))" if ref else "")
    if kind == "object" and isinstance(spec.get("additionalProperties"), dict):
        return "Zuordnung Schlüssel → " + type_words(spec["additionalProperties"])
    if kind == "string":
        return "Datum" if spec.get("format") == "date" else "Text"
    return {"integer": "ganze Zahl", "number": "Zahl", "boolean": "ja/nein"}.get(str(kind), str(kind))


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).replace(".", ",")


def constraints(spec: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for member in _non_null(spec):
        if "enum" in member:
            found.append("eines von: " + ", ".join(code(v) for v in member["enum"]))
        if "pattern" in member:
            found.append(pattern_words(member["pattern"]))
        if member.get("format") == "date":
            found.append("JJJJ-MM-TT, z. B. " + code("2026-12-24"))
        if member.get("type") == "boolean":
            found.append(code("true") + " oder " + code("false"))
        for key, words in (("minimum", "mindestens"), ("exclusiveMinimum", "größer als"),
                           ("maximum", "höchstens"), ("exclusiveMaximum", "kleiner als")):
            if key in member:
                found.append(f"{words} {_number(member[key])}")
        if member.get("minLength") == 1:
            found.append("nicht leer")
        elif "minLength" in member:
            found.append(f"mindestens {member['minLength']} Zeichen")
        if "maxLength" in member:
            found.append(f"höchstens {member['maxLength']} Zeichen")
        if "minItems" in member:
            count = member["minItems"]
            found.append("mindestens ein Eintrag" if count == 1 else f"mindestens {count} Einträge")
        if member.get("type") == "array" and isinstance(member.get("items"), dict) and not _ref_name(member["items"]):
            inner = constraints(member["items"])
            found += [f"je Eintrag {c}" for c in inner if c != code("true") + " oder " + code("false")]
        names = member.get("propertyNames", {})
        if "enum" in names:
            found.append("Schlüssel: " + ", ".join(code(v) for v in names["enum"]))
        values = member.get("additionalProperties")
        if isinstance(values, dict) and not _ref_name(values):
            found += [f"Werte: {c}" for c in constraints(values)]
    return found


def description(spec: dict[str, Any], defs: dict[str, Any]) -> str:
    for candidate in (spec, *_non_null(spec), spec.get("items", {})):
        if isinstance(candidate, dict) and candidate.get("description"):
            return str(candidate["description"])
    ref = _ref_name(spec) or _ref_name(spec.get("items", {}))
    if ref is None:
        for member in _non_null(spec):
            ref = _ref_name(member) or _ref_name(member.get("items", {}))
    if ref is not None and defs.get(ref, {}).get("description"):
        return str(defs[ref]["description"])
    return ""


def default_words(model: type[Any] | None, field: str) -> str:
    if model is None or field not in model.model_fields:
        return "–"
    info = model.model_fields[field]
    if info.is_required():
        return "–"
    value = info.get_default(call_default_factory=True)
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    if value is None:
        return "–"
    if value in ([], {}) or (isinstance(value, dict) and not any(value.values())):
        return "leer"
    if isinstance(value, bool):
        return code("true" if value else "false")
    if isinstance(value, list):
        return code("[" + ", ".join(str(v) for v in value) + "]")
    if isinstance(value, str):
        return code(value)
    return code(_number(value))


def model_classes(model: type[Any]) -> dict[str, type[Any]]:
    """Every pydantic model reachable from `model`, by class name (the JSON Schema's $defs keys)."""
    from pydantic import BaseModel

    found: dict[str, type[Any]] = {}

    def visit(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation.__name__ in found:
                return
            found[annotation.__name__] = annotation
            for info in annotation.model_fields.values():
                visit(info.annotation)
            return
        for argument in typing.get_args(annotation):
            visit(argument)

    visit(model)
    return found


def _references(spec: Any) -> Iterator[tuple[str, str]]:
    """(def name, suffix of the path) for every $ref inside a property's schema."""
    if not isinstance(spec, dict):
        return
    ref = _ref_name(spec)
    if ref is not None:
        yield ref, ""
    for member in spec.get("anyOf", []):
        yield from _references(member)
    if "items" in spec:
        yield from ((name, "[]" + suffix) for name, suffix in _references(spec["items"]))
    if isinstance(spec.get("additionalProperties"), dict):
        yield from ((name, ".<schlüssel>" + suffix) for name, suffix in _references(spec["additionalProperties"]))


def _field_table(properties: dict[str, Any], required: list[str], model: type[Any] | None,
                 defs: dict[str, Any]) -> list[str]:
    rows = ["| Feld | Typ | Pflicht | Erlaubte Werte | Standard | Beschreibung |",
            "| --- | --- | --- | --- | --- | --- |"]
    for name, spec in properties.items():
        rows.append("| " + " | ".join([
            code(name), type_words(spec), "ja" if name in required else "nein",
            "; ".join(constraints(spec)) or "–", default_words(model, name),
            cell(description(spec, defs)) or "–",
        ]) + " |")
    return rows


def reference_page(kind: str, schema: dict[str, Any], model: type[Any]) -> str:
    from generator.schema import FILE_PATTERNS

    defs: dict[str, Any] = schema.get("$defs", {})
    classes = model_classes(model)
    _name, title = _kind_pages()[kind]
    lines = [f"# {title}", ""]
    if schema.get("description"):
        lines += [cell(schema["description"]), ""]
    lines += [
        f"Dateien: {code(FILE_PATTERNS.get(kind, '?'))}. Editoren prüfen beim Tippen mit "
        f"{code(f'schema/{kind}.schema.json')}.",
        "",
        "Diese Seite ist aus dem Schema der Inhalte erzeugt (`generator/models/`), "
        "aus dem auch der Prüfer arbeitet. Regeln, die mehrere Felder oder Dateien betreffen, stehen bei den "
        "[Fehlermeldungen](../fehlermeldungen.md).",
        "",
        "## Felder",
        "",
        *_field_table(schema.get("properties", {}), schema.get("required", []), model, defs),
        "",
    ]
    # Sections for nested parts in the order a reader meets them, each with the paths using it.
    used_at: dict[str, list[str]] = {}
    queue: list[tuple[str, dict[str, Any]]] = [("", schema)]
    while queue:
        prefix, node = queue.pop(0)
        for prop, spec in node.get("properties", {}).items():
            for ref, suffix in _references(spec):
                path = f"{prefix}{prop}{suffix}"
                if ref not in used_at:
                    used_at[ref] = []
                    queue.append((path + ".", defs[ref]))
                used_at[ref].append(path)
    for ref, paths in used_at.items():
        node = defs[ref]
        shown = ", ".join(code(p) for p in paths[:4]) + (" …" if len(paths) > 4 else "")
        lines += [f"## {shown} {{#{ref.lower()}}}", ""]
        if node.get("description"):
            lines += [cell(node["description"]), ""]
        lines += [*_field_table(node.get("properties", {}), node.get("required", []), classes.get(ref), defs), ""]
    example = KIND_EXAMPLES.get(kind)
    if example is not None:
        lines += ["## Beispiel", "", "Eine gültige Datei dieser Art (die Tests prüfen sie bei jedem Lauf).", "",
                  include_file(example), ""]
    return "\n".join(lines)


def field_summary(part: str, here: str) -> str:
    """A short table of one part of a kind (`location/booking`): field, meaning, default, as in the reference."""
    from generator.models import KINDS, json_schemas

    kind, _, field = part.partition("/")
    schema = json_schemas().get(kind)
    spec = (schema or {}).get("properties", {}).get(field)
    refs = list(_references(spec)) if spec else []
    if schema is None or not refs:
        raise PluginError(f"felder:{part}: no such part (expected kind/field of a nested part)")
    ref = refs[0][0]
    node = schema["$defs"][ref]
    model = model_classes(KINDS[kind]).get(ref)
    name, title = _kind_pages()[kind]
    rows = ["| Feld | Bedeutung | Standard |", "| --- | --- | --- |"]
    for prop, prop_spec in node.get("properties", {}).items():
        about = "; ".join(filter(None, [cell(description(prop_spec, schema["$defs"])), *constraints(prop_spec)]))
        rows.append(f"| {code(prop)} | {about or '–'} | {default_words(model, prop)} |")
    target = link(here, f"{REFERENCE_DIR}/{name}.md#{ref.lower()}")
    return "\n".join(rows) + f"\n\nAus dem Schema erzeugt; alle Angaben in der [Referenz: {title}]({target})."


def reference_pages() -> dict[str, str]:
    from generator.models import KINDS, json_schemas

    schemas = json_schemas()
    return {kind: reference_page(kind, schemas[kind], KINDS[kind]) for kind in KINDS}


def reference_overview(here: str) -> str:
    from generator.models import json_schemas
    from generator.schema import FILE_PATTERNS

    schemas = json_schemas()
    rows = ["| Art | Dateien | Inhalt |", "| --- | --- | --- |"]
    for kind, (name, title) in _kind_pages().items():
        about = schemas[kind].get("description") or ""
        rows.append(f"| [{title}]({link(here, f'{REFERENCE_DIR}/{name}.md')}) | {code(FILE_PATTERNS.get(kind, '?'))} "
                    f"| {cell(about) or '–'} |")
    return "\n".join(rows)


# ---------------------------------------------------------------- validation messages


def load_messages() -> list[Any]:
    """The catalogue of messages (generator/messages.yaml), as the checker reads it."""
    from generator.messages import CatalogueError, catalogue

    try:
        return list(catalogue().values())
    except CatalogueError as error:
        raise PluginError(str(error)) from None


KIND_NOTES = {
    "warnung": "*Warnung beim Bauen: Die Websites werden trotzdem gebaut; `build.py check --strict` meldet sie "
               "als Fehler.*",
    "link": "*Warnung von `build.py check --links`; mit `--strict-links` ein Fehler.*",
}


def message_page(here: str) -> str:
    groups: dict[str, list[Any]] = {}
    for message in load_messages():
        groups.setdefault(message.group, []).append(message)
    lines: list[str] = []
    for group, members in groups.items():
        lines += [f"## {group}", ""]
        for message in members:
            lines += [f"### {code(message.readable())} {{#{message.id}}}", ""]
            if message.kind in KIND_NOTES:
                lines += [KIND_NOTES[message.kind], ""]
            lines += _example_lines(message.entry)
            lines += ["**Lösung:** " + message.fix, ""]
    return "\n".join(lines)


def _example_lines(entry: dict[str, Any]) -> list[str]:
    where = entry.get("datei")
    mode = entry.get("modus", "ergaenzen")
    example = str(entry["beispiel"])
    language = LANGUAGES.get(Path(where).suffix, "") if where else "yaml"
    if mode == "entfernen":
        return [f"**Beispiel:** {example.strip()}", ""]
    if where is None:
        caption = "**Beispiel:**"
    elif mode == "ersetzen":
        caption = f"**Beispiel:** die ganze Datei {code(posixpath.normpath('content/' + where))}"
        if entry.get("kodierung"):
            caption += f", gespeichert in der Kodierung {entry['kodierung']}"
    else:
        caption = f"**Beispiel** in {code('content/' + where)} (Ausschnitt):"
    return [caption, "", fence(example, language), ""]


# ---------------------------------------------------------------- katalog.json


def load_katalog() -> dict[str, Any]:
    """The versions of katalog.json (docs/katalog.yaml) and its keys (`schluessel`, from the models:
    each with pfad, typ, bedeutung and, for a part built like a content file, wie)."""
    data = yaml.safe_load(KATALOG_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "versionen" not in data:
        raise PluginError("docs/katalog.yaml: expected the key versionen")
    return {**data, "schluessel": katalog_key_rows()}


# How the table of keys names a JSON type.
JSON_TYPES = {"string": "Text", "integer": "ganze Zahl", "number": "Zahl", "boolean": "ja/nein"}


def katalog_key_rows() -> list[dict[str, str]]:
    """Every key of katalog.json as the models in katalog/models.py describe it. A part that has
    the fields of a content file (x-wie in the schema) is described by that file's reference; only
    the keys katalog.json adds to it (x-eigene) are listed. Keys listed in x-null stay as null."""
    from katalog.models import Katalog

    schema = Katalog.model_json_schema()
    defs = schema.get("$defs", {})
    rows: list[dict[str, str]] = []

    def model_of(spec: dict[str, Any]) -> dict[str, Any] | None:
        ref = spec.get("$ref")
        return defs[ref.rsplit("/", 1)[-1]] if ref else (spec if spec.get("type") == "object"
                                                           and "properties" in spec else None)

    def walk(model: dict[str, Any], prefix: str) -> None:
        wie = model.get("x-wie")
        nullable = set(model.get("x-null", []))
        for name, spec in model.get("properties", {}).items():
            if wie is not None and name not in model.get("x-eigene", []):
                continue
            key(f"{prefix}.{name}" if prefix else name, spec, name in nullable)

    def key(path: str, spec: dict[str, Any], nullable: bool) -> None:
        meaning = spec.get("description")
        if not meaning:
            raise PluginError(f"katalog/models.py: the key {path} of katalog.json has no description")
        inner = next((s for s in spec.get("anyOf", []) if s.get("type") != "null"), spec)
        row = {"pfad": path, "typ": _json_type(inner, defs) + (" oder null" if nullable else ""), "bedeutung": meaning}
        if spec.get("x-wie"):
            rows.append({**row, "wie": spec["x-wie"]})
            return
        entries = inner.get("additionalProperties")
        if isinstance(entries, dict):  # a map id → part
            rows.append(row)
            part = model_of(entries) or {}
            entry = {"pfad": f"{path}.<id>", "typ": "Abschnitt",
                     "bedeutung": spec.get("x-eintrag") or part.get("description", "")}
            rows.append({**entry, "wie": part["x-wie"]} if part.get("x-wie") else entry)
            walk(part, f"{path}.<id>")
            return
        items = inner.get("items")
        part = model_of(items if isinstance(items, dict) else inner)
        if part is not None and part.get("x-wie"):
            rows.append({**row, "wie": part["x-wie"]})
        else:
            rows.append(row)
        if part is not None:
            walk(part, f"{path}[]" if isinstance(items, dict) else path)

    walk(schema, "")
    return rows


def _json_type(spec: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in spec:
        return "Abschnitt"
    kind = spec.get("type")
    if kind == "array":
        items = spec.get("items", {})
        return "Liste von Texten" if items.get("type") == "string" else "Liste"
    if kind == "object":
        return "Zuordnung Kennung → Abschnitt" if "additionalProperties" in spec else "Abschnitt"
    if kind == "string" and spec.get("format") == "date":
        return "Datum"
    return JSON_TYPES.get(str(kind), "Wert")


def katalog_version(here: str) -> str:
    from katalog import VERSION

    versions = [entry["version"] for entry in load_katalog()["versionen"]]
    if VERSION not in versions:
        raise PluginError(f"docs/katalog.yaml: katalog/models.py says VERSION = {VERSION}, "
                          "but versionen does not describe it")
    return str(VERSION)


def katalog_versions(here: str) -> str:
    katalog_version(here)
    rows = ["| Version | Seit | Änderungen |", "| --- | --- | --- |"]
    for entry in load_katalog()["versionen"]:
        rows.append(f"| {entry['version']} | {cell(entry['seit'])} | {cell(entry['aenderungen'])} |")
    return "\n".join(rows)


def katalog_keys(here: str) -> str:
    from generator.models import json_schemas

    schemas = json_schemas()
    rows = ["| Schlüssel | Typ | Bedeutung |", "| --- | --- | --- |"]
    for entry in load_katalog()["schluessel"]:
        meaning = cell(entry["bedeutung"])
        like = entry.get("wie")
        if like:
            kind, _, field = str(like).partition("/")
            if kind not in schemas:
                raise PluginError(f"katalog/models.py: {entry['pfad']}: x-wie names an unknown kind {kind}")
            name, title = _kind_pages()[kind]
            target = f"{REFERENCE_DIR}/{name}.md"
            if field:
                spec = schemas[kind].get("properties", {}).get(field)
                refs = list(_references(spec)) if spec else []
                if not refs:
                    raise PluginError(f"katalog/models.py: {entry['pfad']}: {kind} has no part {field}")
                target += f"#{refs[0][0].lower()}"
                title = f"{title}, {field}"
            meaning += f" Aufbau wie in der Datei: [{title}]({link(here, target)})."
        rows.append(f"| {code(entry['pfad'])} | {cell(entry.get('typ', ''))} | {meaning} |")
    return "\n".join(rows)


def katalog_example(here: str) -> str:
    """An excerpt of a real katalog.json, made from the test data when the handbook is built."""
    import json

    from generator.export import katalog
    from generator.pipeline import check
    from generator.resolve import resolve

    catalog = resolve(check(ROOT / "tests" / "fixtures" / "content"))["stadt"]
    data = katalog(catalog, "https://portal.example")
    sid = "personalausweis-beantragen"
    excerpt = {"version": data["version"], "municipality": data["municipality"],
               "services": {sid: data["services"][sid], "…": "…"}, "units": "…", "locations": "…", "forms": "…",
               "life_situations": "…"}
    return fence(json.dumps(excerpt, ensure_ascii=False, indent=2), "json")


def skeleton_example(here: str) -> str:
    """The start of a skeleton as `build.py new service` writes it (into a copy of the test data)."""
    import shutil
    import tempfile

    from generator.skeleton import write_skeleton

    with tempfile.TemporaryDirectory() as folder:
        content = Path(folder) / "content"
        shutil.copytree(ROOT / "tests" / "fixtures" / "content", content)
        text = write_skeleton(content, "service", "hundesteuer-anmelden").path.read_text(encoding="utf-8")
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("name:")), 0)
    while start > 0 and lines[start - 1].startswith("#"):
        start -= 1
    return fence("\n".join(lines[start:start + 12]), "yaml")


# ---------------------------------------------------------------- configuration


class Variable(typing.NamedTuple):
    name: str
    field: str
    default: str
    meaning: str


def _comments(source: str) -> dict[int, str]:
    return {token.start[0]: token.string.lstrip("#").strip()
            for token in tokenize.generate_tokens(io.StringIO(source).readline) if token.type == tokenize.COMMENT}


def settings_variables() -> list[Variable]:
    """Every variable of dynamic/platform/config.py, checked: each Settings field in ENVIRONMENT names
    its variable in its trailing comment, and each commented variable is in ENVIRONMENT."""
    from dynamic.platform import config

    source = CONFIG_SOURCE.read_text(encoding="utf-8")
    comments = _comments(source)
    tree = ast.parse(source)
    settings = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Settings")
    commented: dict[str, tuple[str, str]] = {}
    for node in settings.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            comment = comments.get(node.lineno, "")
            name, _, meaning = comment.partition(":")
            if re.fullmatch(r"[A-Z][A-Z0-9_]+", name.strip()):
                commented[node.target.id] = (name.strip(), meaning.strip())
    environment: dict[str, str] = dict(config.ENVIRONMENT)
    problems = []
    for variable, field in environment.items():
        found = commented.get(field)
        if found is None:
            problems.append(f"Settings.{field} ({variable}) has no trailing comment '# {variable}: meaning'")
        elif found[0] != variable:
            problems.append(f"Settings.{field}: its comment names {found[0]}, ENVIRONMENT says {variable}")
    for field, (variable, _meaning) in commented.items():
        if environment.get(variable) != field:
            problems.append(f"Settings.{field}: its comment names {variable}, which ENVIRONMENT does not map to it")
    if problems:
        raise PluginError("dynamic/platform/config.py: " + "; ".join(problems))
    defaults = {f.name: f for f in dataclasses.fields(config.Settings)}
    derived = _derived_defaults()
    variables = []
    for variable, field in environment.items():
        shown = _default_words(defaults[field], config.ROOT)
        if shown == "leer" and derived.get(field):
            shown = derived[field]
        variables.append(Variable(variable, field, shown, commented[field][1]))
    return variables


def _derived_defaults() -> dict[str, str]:
    """Defaults that dynamic/platform/config.py fills in when a variable is empty (complete()), as they come out for a
    fresh installation: paths below var/ shown as var/…, a value that differs between two installations as random."""
    import tempfile

    from dynamic.platform import config

    runs = []
    for _ in range(2):
        with tempfile.TemporaryDirectory() as folder:
            completed = config.settings_from_env({}, var_dir=Path(folder) / "var")
            runs.append({f.name: str(getattr(completed, f.name)).replace(folder + "/", "") for f in
                         dataclasses.fields(config.Settings)})
    shown = {}
    for name, value in runs[0].items():
        if value and value == runs[1][name]:
            shown[name] = code(value)
        elif value:
            shown[name] = "zufällig, beim ersten Start erzeugt"
    return shown


def _default_words(field: dataclasses.Field[Any], root: Path) -> str:
    value = field.default
    if value is dataclasses.MISSING and field.default_factory is not dataclasses.MISSING:
        value = field.default_factory()
    if isinstance(value, bool):
        return code("1" if value else "0")
    if isinstance(value, Path):
        shown = value.relative_to(root) if value.is_relative_to(root) else value
        return code(f"{shown}/") + " (im Projektordner)" if value.is_relative_to(root) else code(shown)
    if value in ("", None):
        return "leer"
    return code(value)


def environment_table(here: str) -> str:
    rows = ["| Variable | Standard | Bedeutung (Kommentar in `dynamic/platform/config.py`) |", "| --- | --- | --- |"]
    for variable in settings_variables():
        rows.append(f"| {code(variable.name)} | {variable.default} "
                    f"| {cell(variable.meaning) or '–'} |")
    return "\n".join(rows)


# ---------------------------------------------------------------- metrics

METRICS_SOURCE = ROOT / "dynamic" / "platform" / "metrics.py"
METRIC_KINDS = {
    "Counter": "Zähler",
    "Histogram": "Histogramm (Reihen `_bucket`, `_sum`, `_count`)",
    "Gauge": "Messwert",
    "Summary": "Zusammenfassung (Reihen `_sum`, `_count`)",
    "GaugeMetricFamily": "Messwert, beim Abruf aus der Datenbank gezählt",
    "CounterMetricFamily": "Zähler, beim Abruf aus der Datenbank gezählt",
}


def metrics_table(here: str) -> str:
    """Every metric that dynamic/platform/metrics.py defines: name, kind, labels and its help text."""
    if not METRICS_SOURCE.is_file():
        raise PluginError("dynamic/platform/metrics.py is missing: the handbook describes /metrics from it")
    rows = ["| Metrik | Art | Labels | Beschreibung (Hilfetext im Code) |", "| --- | --- | --- | --- |"]
    for node in ast.walk(ast.parse(METRICS_SOURCE.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in METRIC_KINDS):
            continue
        texts = [arg.value for arg in node.args[:2] if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
        if len(texts) < 2:
            continue
        labels: list[str] = []
        candidates = [*node.args[2:3], *(k.value for k in node.keywords if k.arg in ("labels", "labelnames"))]
        for candidate in candidates:
            if isinstance(candidate, ast.List | ast.Tuple):
                labels += [e.value for e in candidate.elts if isinstance(e, ast.Constant)]
        rows.append(f"| {code(texts[0])} | {METRIC_KINDS[node.func.id]} | "
                    f"{', '.join(code(label) for label in labels) or '–'} | {cell(texts[1])} |")
    if len(rows) == 2:
        raise PluginError("dynamic/platform/metrics.py: no metric found")
    return "\n".join(rows)


def _duration_words(span: Any) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 60:
        return f"{minutes} Minuten"
    hours = minutes // 60
    return "1 Stunde" if hours == 1 else f"{hours} Stunden"


def trust_level_table(here: str) -> str:
    """The trust levels as portal/levels.py defines them: one row per level, lowest first."""
    from portal.levels import TrustLevel

    rows = ["| Vertrauensniveau im Portal | angefragt als | Anmeldung beim Servicekonto | Anmeldung gilt höchstens | "
            "abgemeldet nach Untätigkeit von | Angaben gelten als geprüft |", "| --- | --- | --- | --- | --- | --- |"]
    for level in TrustLevel:
        row = level.row
        rows.append(f"| {code(level.value)} | {code(row.stork)} | {cell(row.means.label)} | "
                    f"{_duration_words(row.lifetime.absolute)} | {_duration_words(row.lifetime.idle)} | "
                    f"{'ja' if row.verified else 'nein'} |")
    return "\n".join(rows)


GENERATORS: dict[str, Callable[[str], str]] = {
    "vertrauensniveaus": trust_level_table,
    "metriken": metrics_table,
    "referenz-uebersicht": reference_overview,
    "fehlermeldungen": message_page,
    "katalog-version": katalog_version,
    "katalog-versionen": katalog_versions,
    "katalog-schluessel": katalog_keys,
    "katalog-beispiel": katalog_example,
    "geruest-beispiel": skeleton_example,
    "umgebungsvariablen": environment_table,
}
