"""The handbook builds with `mkdocs build --strict`, and what it says about the code stays true:
every validator message is documented with an example that produces it, every environment
variable and every key of katalog.json is described, and the deploy files fit the app."""

from __future__ import annotations

import ast
import copy
import importlib.util
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from generator.errors import ContentError
from generator.messages import catalogue
from generator.pipeline import check
from generator.resolve import resolve
from tests.conftest import FIXTURE_CONTENT, REAL_CONTENT, TODAY
from tests.generator.test_validate import CASES, edit

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MESSAGES = [message.entry for message in catalogue().values()]  # generator/messages.yaml
EXAMPLES = DOCS / "beispiele" / "inhalte"
NGINX = ROOT / "deploy" / "nginx" / "buergerportal.conf"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the loader of generator/load.py


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("handbook_hooks", DOCS / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


hooks = _hooks()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("handbuch") / "site"
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(target)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def page_text(site: Path, path: str) -> str:
    return (site / path / "index.html").read_text(encoding="utf-8")


def test_handbook_builds_strictly_with_every_part(site: Path) -> None:
    for path in ("redaktion/erste-schritte", "redaktion/fehlermeldungen", "redaktion/katalog-json",
                 "betrieb/konfiguration", "betrieb/webserver"):
        assert (site / path / "index.html").is_file(), path
    # The theme speaks German, and nothing generated is left as a marker.
    start = (site / "index.html").read_text(encoding="utf-8")
    assert '<html class="writer-html5" lang="de"' in start and "Weiter" in start
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<!-- erzeugen:" not in text and "<!-- einbinden:" not in text, page


def test_reference_has_one_page_per_kind_with_every_field(site: Path) -> None:
    from generator.models import KINDS

    for kind, model in KINDS.items():
        name, _title = hooks.KIND_PAGES[kind]
        text = page_text(site, f"redaktion/referenz/{name}")
        for field in model.model_fields:
            assert f"<code>{field}</code>" in text, f"{kind}: {field}"


def test_the_saml_page_names_every_trust_level_as_the_login_asks_for_it(site: Path) -> None:
    # The operators' table of levels is rendered from portal/levels.py, the row the SAML
    # login reads: a level added or a STORK class changed there shows up here.
    from portal.levels import TrustLevel

    rows = re.findall(r"<tr>\s*<td><code>([a-z]+)</code></td>\s*<td><code>([^<]+)</code></td>\s*<td>([^<]+)</td>",
                      page_text(site, "betrieb/saml"))
    assert rows == [(level.value, level.stork, level.row.means.label) for level in TrustLevel]


# ---------------------------------------------------------------- validation messages


def _patterns(kind: str = "fehler") -> list[re.Pattern[str]]:
    return [message.pattern() for message in catalogue().values() if message.kind == kind]


def _undocumented(messages: list[str], kind: str = "fehler") -> list[str]:
    patterns = _patterns(kind)
    return [m for m in messages if not any(p.fullmatch(m) for p in patterns)]


def _errors(content: Path) -> list[str]:
    try:
        check(content)
    except ContentError as error:
        return [problem.message for problem in error.problems]
    return []


def _warnings(content: Path) -> list[str]:
    """Every warning of one validation: the build's (each Catalog's) and the provenance warnings."""
    valid = check(content)
    built = [warning for catalog in resolve(valid).values() for warning in catalog.warnings]
    return built + [problem.message for problem in valid.warnings()]


@pytest.mark.parametrize(("file", "old", "new", "expected"), CASES)
def test_every_message_of_the_validator_cases_is_documented(content: Path, file: str, old: str, new: str,
                                                            expected: str) -> None:
    edit(content / file, old, new)
    found = _errors(content)
    assert found, "the case produced no message"
    assert not _undocumented(found), "add these messages to generator/messages.yaml:\n" + "\n".join(
        _undocumented(found))


def test_the_real_content_warns_only_in_documented_words() -> None:
    assert not _undocumented(_warnings(REAL_CONTENT), "warnung")


def _merge(base: Any, extra: Any) -> Any:
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = copy.deepcopy(base)
        for key, value in extra.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    return extra


def apply_example(content: Path, entry: dict[str, Any]) -> None:
    target = content / entry["datei"]
    mode = entry.get("modus", "ergaenzen")
    if mode == "entfernen":
        target.unlink()
    elif mode == "ersetzen":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(entry["beispiel"].encode(entry.get("kodierung", "utf-8")))
    else:
        data = yaml.load(target.read_text(encoding="utf-8"), Loader=LOADER)
        merged = _merge(data, yaml.load(entry["beispiel"], Loader=LOADER))
        target.write_text(yaml.safe_dump(merged, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize("entry", [e for e in MESSAGES if e.get("art", "fehler") != "link"], ids=lambda e: e["id"])
def test_each_documented_example_produces_its_message(content: Path, entry: dict[str, Any]) -> None:
    apply_example(content, entry)
    kind = entry.get("art", "fehler")
    found = _errors(content) if kind == "fehler" else _warnings(content)
    pattern = catalogue()[entry["id"]].pattern()
    assert any(pattern.fullmatch(message) for message in found), "\n".join(found)
    assert not _undocumented(found, kind), "\n".join(_undocumented(found, kind))


class _Website(BaseHTTPRequestHandler):
    """Answers as the example links of generator/messages.yaml describe their websites."""

    def do_HEAD(self) -> None:  # noqa: N802 - the name http.server calls
        if self.path == "/langsam":
            time.sleep(1.0)
        elif self.path == "/im-kreis":
            self.send_response(302)
            self.send_header("Location", "/im-kreis")
            self.end_headers()
            return
        self.send_response({"/gibt-es-nicht": 404}.get(self.path, 200))
        self.end_headers()

    do_GET = do_HEAD

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def website() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Website)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("entry", [e for e in MESSAGES if e.get("art") == "link"], ids=lambda e: e["id"])
def test_each_documented_link_example_produces_its_warning(tmp_path: Path, website: str, entry: dict[str, Any]) -> None:
    from generator.links import check_links

    with socket.socket() as closed:  # a port where nobody answers
        closed.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{closed.getsockname()[1]}"
    text = entry["beispiel"].replace("https://www.example.org", website)
    text = text.replace("https://nicht-erreichbar.example.org", nobody)
    target = tmp_path / "content" / entry["datei"]
    target.parent.mkdir(parents=True)
    target.write_text(text, encoding="utf-8")
    report = check_links(tmp_path / "content", timeout=0.3, pause=0, allow_local_http=True)
    found = [problem.message for problem in report.dead + report.flaky]
    assert any(catalogue()[entry["id"]].pattern().fullmatch(message) for message in found), found
    assert not _undocumented(found, "link"), found


def test_every_message_entry_has_an_example_and_reads_without_regex_syntax() -> None:
    ids = [entry["id"] for entry in MESSAGES]
    assert len(ids) == len(set(ids))
    for entry in MESSAGES:
        assert entry.get("datei"), f"{entry['id']}: no example file (datei)"
        shown = catalogue()[entry["id"]].readable()
        assert not re.search(r"\\|\(\?|[+*]", shown), f"{entry['id']}: {shown}"


def _with_examples(content: Path) -> Path:
    for source in EXAMPLES.rglob("*"):
        if source.is_file():
            target = content / source.relative_to(EXAMPLES)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return content


def test_handbook_examples_are_valid_content(content: Path) -> None:
    valid = check(_with_examples(content))
    assert "hundesteuer-anmelden" in valid.services and "hundesteuer" in valid.forms
    assert "neustadt" in valid.municipalities


def test_a_fifth_municipality_is_a_folder_of_content_and_a_build(content: Path, tmp_path: Path) -> None:
    from generator.pipeline import build

    out = tmp_path / "output"
    build(_with_examples(content), out, today=TODAY, show_progress=False)
    assert (out / "neustadt" / "index.html").is_file()
    assert (out / "neustadt" / "leichte-sprache" / "index.html").is_file()
    assert json.loads((out / "neustadt" / "katalog.json").read_text(encoding="utf-8"))["municipality"]["slug"] == "neustadt"


# ---------------------------------------------------------------- katalog.json


def _key_paths(value: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            name = "<id>" if prefix in ("services", "units", "locations", "forms", "life_situations") else key
            path = f"{prefix}.{name}" if prefix else name
            yield path
            yield from _key_paths(inner, path)
    elif isinstance(value, list):
        for inner in value:
            yield from _key_paths(inner, f"{prefix}[]")


def _exported_paths() -> set[str]:
    from generator.export import katalog

    paths: set[str] = set()
    for folder in (FIXTURE_CONTENT, REAL_CONTENT):
        for catalog in resolve(check(folder)).values():
            paths.update(_key_paths(katalog(catalog, "https://portal.example")))
    return paths


def test_every_key_of_katalog_json_is_documented_and_every_documented_key_exists() -> None:
    documented = {entry["pfad"]: entry for entry in hooks.load_katalog()["schluessel"]}
    open_parts = [path for path, entry in documented.items() if entry.get("wie")]
    exported = _exported_paths()
    missing = sorted(p for p in exported if p not in documented
                     and not any(p.startswith(part + ".") or p.startswith(part + "[]") for part in open_parts))
    assert not missing, "describe these keys in docs/katalog.yaml:\n" + "\n".join(missing)
    gone = sorted(set(documented) - exported)
    assert not gone, "documented but no longer exported (keys are only ever added):\n" + "\n".join(gone)


def test_katalog_version_of_the_code_is_described(site: Path) -> None:
    from generator.export import KATALOG_VERSION

    assert KATALOG_VERSION in [entry["version"] for entry in hooks.load_katalog()["versionen"]]
    assert f"<td>{KATALOG_VERSION}</td>" in page_text(site, "redaktion/katalog-json")


# ---------------------------------------------------------------- configuration


def _text_of(node: ast.expr | None, constants: dict[str, str]) -> str | None:
    """A string literal, or the value of a module constant that holds one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return constants.get(node.id) if isinstance(node, ast.Name) else None


def _environment_argument(node: ast.AST) -> ast.expr | None:
    """The variable's name in os.environ.get(…), os.getenv(…), os.environ[…] or … in os.environ."""
    if isinstance(node, ast.Call) and node.args and ast.unparse(node.func) in (
            "os.environ.get", "os.getenv", "environ.get", "getenv"):
        return node.args[0]
    if isinstance(node, ast.Subscript) and ast.unparse(node.value) in ("os.environ", "environ"):
        return node.slice
    if isinstance(node, ast.Compare) and any(ast.unparse(c) in ("os.environ", "environ") for c in node.comparators):
        return node.left
    return None


def _variables_read_by_the_code() -> set[str]:
    """Names of the environment variables that build.py, generator/, search_index/ and dynamic/ read."""
    found: set[str] = set()
    for path in [ROOT / "build.py", *(ROOT / "dynamic").rglob("*.py"), *(ROOT / "generator").rglob("*.py"),
                 *(ROOT / "search_index").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {target.id: node.value.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                     for target in node.targets if isinstance(target, ast.Name)
                     and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
        for node in ast.walk(tree):
            name = _text_of(_environment_argument(node), constants)
            if name and re.fullmatch(r"[A-Z][A-Z0-9_]+", name):
                found.add(name)
    return found


def test_every_environment_variable_is_in_the_configuration_reference(site: Path) -> None:
    from dynamic.platform.config import ENVIRONMENT

    text = page_text(site, "betrieb/konfiguration")
    for variable in {*ENVIRONMENT, *_variables_read_by_the_code()}:
        assert f"<code>{variable}</code>" in text, variable


def test_every_setting_names_its_variable_in_its_comment() -> None:
    from dynamic.platform.config import ENVIRONMENT

    # settings_variables() itself refuses a field whose comment names no variable or another one.
    assert [v.name for v in hooks.settings_variables()] == list(ENVIRONMENT)


def test_example_environment_file_uses_known_variables_only() -> None:
    from dynamic.platform.config import ENVIRONMENT

    known = {*ENVIRONMENT, *_variables_read_by_the_code()}
    for line in (ROOT / "deploy" / "buergerportal.env.beispiel").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            assert line.split("=", 1)[0].strip() in known, line


# ---------------------------------------------------------------- deploy files


def _blocks(text: str) -> list[tuple[str, str]]:
    """(header, body) of every top-level block of an nginx file, comments removed."""
    text = re.sub(r"#[^\n]*", "", text)
    blocks, depth, start, header_start = [], 0, 0, 0
    for index, char in enumerate(text):
        if char == "{":
            if depth == 0:
                start, header = index, text[header_start:index]
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                blocks.append((header.strip().split(";")[-1].strip(), text[start + 1:index]))
                header_start = index + 1
        elif char == ";" and depth == 0:
            header_start = index + 1
    return blocks


def _locations(server: str) -> list[tuple[str, str, str]]:
    """(modifier, pattern, body) of each location block of a server block."""
    found = []
    for header, body in _blocks(server):
        parts = header.split()
        if parts and parts[0] == "location":
            modifier, pattern = (parts[1], parts[2]) if len(parts) == 3 else ("", parts[1])
            found.append((modifier, pattern, body))
    return found


def nginx_location(locations: list[tuple[str, str, str]], path: str) -> tuple[str, str, str] | None:
    """The location nginx chooses for path: exact match, else the longest prefix unless ^~ forbids
    regexes, else the first matching regex, else that longest prefix."""
    for location in locations:
        if location[0] == "=" and location[1] == path:
            return location
    prefixes = [loc for loc in locations if loc[0] in ("", "^~") and path.startswith(loc[1])]
    longest = max(prefixes, key=lambda loc: len(loc[1]), default=None)
    if longest is not None and longest[0] == "^~":
        return longest
    for location in locations:
        if location[0] in ("~", "~*") and re.search(location[1], path,
                                                    re.IGNORECASE if location[0] == "~*" else 0):
            return location
    return longest


def _tls_server() -> str:
    servers = [body for header, body in _blocks(NGINX.read_text(encoding="utf-8")) if header == "server"]
    tls = [body for body in servers if re.search(r"listen\s+443", body)]
    assert len(tls) == 1, "one server block listens on 443"
    return tls[0]


def test_nginx_config_has_balanced_braces_and_names_every_dynamic_path() -> None:
    text = re.sub(r"#[^\n]*", "", NGINX.read_text(encoding="utf-8"))
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0, "a } closes nothing"
    assert depth == 0, "a { is never closed"
    for name in ("konto", "postfach", "saml", "api", "healthz", "metrics", "termine", "antrag", "verwaltung"):
        assert name in text, name


def _sample(rule: str) -> str:
    """A path that the Flask rule matches: placeholders filled with plausible values."""
    rule = re.sub(r"<int:[a-z_]+>", "7", rule)
    rule = rule.replace("<slug>", "muenster")
    return re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "beispiel-1", rule)


@pytest.fixture(scope="module")
def app_rules(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    from dynamic import create_app
    from dynamic.platform.config import settings_from_env
    from dynamic.serve import migrate_database

    folder = tmp_path_factory.mktemp("app")
    settings = {"output_dir": folder / "output", "var_dir": folder / "var", "base_url": "http://127.0.0.1:8000"}
    migrate_database(**settings)
    app = create_app(settings_from_env({}, **settings))
    try:
        return [(rule.endpoint.split(".")[0], rule.rule) for rule in app.url_map.iter_rules()]
    finally:
        app.extensions["db_engine"].dispose()


def test_nginx_sends_every_dynamic_route_to_the_app_and_keeps_the_rest_static(app_rules: list[tuple[str, str]]) -> None:
    locations = _locations(_tls_server())
    for blueprint, rule in app_rules:
        path = _sample(rule)
        location = nginx_location(locations, path)
        proxied = location is not None and "proxy_pass" in location[2]
        if blueprint in ("sites", "dev_idp", "live_reload"):
            continue  # files served by nginx; the development IdP and live reload never run in production
        if blueprint == "metrics":
            assert not proxied, f"{rule} must stay internal"
            assert location is not None and "return 404" in location[2], rule
        else:
            assert proxied, f"{rule} ({path}) does not reach the app"
    for static in ("/", "/muenster/", "/muenster/leistungen/meldebescheinigung/", "/theme/css/site.css",
                   "/kreis-coesfeld/katalog.json", "/muenster/suche/t/me.json", "/muenster/aktuelles/feed.xml"):
        location = nginx_location(locations, static)
        assert location is None or "proxy_pass" not in location[2], static
    hidden = nginx_location(locations, "/.muenster.a/index.html")
    assert hidden is not None and "return 404" in hidden[2], "the build's hidden folders are not served"


def test_systemd_units_start_the_app_and_the_worker() -> None:
    app = (ROOT / "deploy" / "systemd" / "buergerportal.service").read_text(encoding="utf-8")
    worker = (ROOT / "deploy" / "systemd" / "buergerportal-worker.service").read_text(encoding="utf-8")
    assert re.search(r"^ExecStart=\S+/gunicorn .*dynamic\.wsgi:app$", app, re.MULTILINE)
    assert re.search(r"^ExecStart=\S+/python \S*build\.py worker$", worker, re.MULTILINE)
    port = re.search(r"--bind 127\.0\.0\.1:(\d+)", app)
    assert port and f"127.0.0.1:{port.group(1)}" in NGINX.read_text(encoding="utf-8")
    for unit in (app, worker):
        assert "EnvironmentFile=/etc/buergerportal/buergerportal.env" in unit


def test_readme_and_architecture_stay_inside_the_repository_and_keep_the_sections_code_names() -> None:
    """A clone has no design folder beside it, so README.md and ARCHITECTURE.md point nowhere outside
    the repository: no ../shared, no path that climbs out of it, no link to another site (the local
    portal on the loopback address aside), no link to a file or heading that is not here. And every
    section of ARCHITECTURE.md that code or handbook names (ARCHITECTURE.md, then the section in
    double quotes) is one of its headings."""

    def without_code(text: str) -> str:
        text = re.sub(r"^```.*?^```[^\n]*$", "", text, flags=re.MULTILINE | re.DOTALL)
        return re.sub(r"`[^`\n]*`", "", text)

    def headings(text: str) -> list[str]:
        prose = re.sub(r"^```.*?^```[^\n]*$", "", text, flags=re.MULTILINE | re.DOTALL)
        return [match.strip() for match in re.findall(r"^#{1,6}[ \t]+(.+?)[ \t]*#*$", prose, re.MULTILINE)]

    def anchor(heading: str) -> str:  # as GitHub and MkDocs make them from a heading
        return re.sub(r"[^\w\- ]", "", heading.casefold()).strip().replace(" ", "-")

    documents = {name: (ROOT / name).read_text(encoding="utf-8") for name in ("README.md", "ARCHITECTURE.md")}
    anchors = {name: {anchor(heading) for heading in headings(text)} for name, text in documents.items()}
    for name, text in documents.items():
        for leak in ("../shared", "shared/design/", "/work/"):
            assert leak not in text, f"{name} points outside the repository: {leak!r}"
        climbing = re.search(r"(?<![\w.])\.\.[/\\]", text)
        assert climbing is None, f"{name} has a relative path leaving the repository: {text[climbing.start():][:60]!r}"
        prose = without_code(text)
        targets = re.findall(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", prose)
        targets += re.findall(r"<([a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]+)>", prose)
        targets += re.findall(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", prose, re.MULTILINE)
        for target in targets:
            if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", target):
                local = re.match(r"https?://(127\.0\.0\.1|localhost)(:\d+)?(/|$)", target)
                assert local, f"{name} links outside the repository: {target}"
                continue
            path, _, fragment = target.partition("#")
            file = (ROOT / path).resolve() if path else ROOT / name
            assert file.is_relative_to(ROOT) and file.exists(), f"{name} links to {target}, not in the repository"
            if fragment and file.name in anchors and file.parent == ROOT:
                assert fragment in anchors[file.name], f"{name} links to {target}: no such heading"

    sections = {heading.casefold() for heading in headings(documents["ARCHITECTURE.md"])}
    sources = [ROOT / "build.py"] + [
        path for folder in ("dynamic", "generator", "search_index", "docs", "tests", "site_templates", "deploy")
        for path in sorted((ROOT / folder).rglob("*"))
        if path.suffix in (".py", ".md", ".html", ".txt", ".yaml", ".yml", ".conf", ".service")
        and path.is_file() and path.resolve() != Path(__file__).resolve()]
    named: dict[str, str] = {}
    for source in sources:
        for reference in re.findall(r'ARCHITECTURE\.md,\s*"([^"]+)"', source.read_text(encoding="utf-8")):
            section = re.sub(r"\s*\n\s*(?:#+\s*)?", " ", reference).strip()
            named[section] = str(source.relative_to(ROOT))
    assert "the dynamic tier" in {section.casefold() for section in named}, "no reference found: the search is broken"
    missing = {section: source for section, source in named.items() if section.casefold() not in sections}
    assert not missing, f"sections named in the code but not headings of ARCHITECTURE.md: {missing}"


def test_every_test_the_readme_names_for_bundids_profile_exists() -> None:
    # The README lists BundID's profile point by point with its test; a renamed or removed
    # test would leave the list claiming a proof that no longer runs.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", readme)
    assert len(named) >= 11
    for path, name in named:
        assert re.search(rf"^def {name}\(", (ROOT / path).read_text(encoding="utf-8"), re.M), f"{path}::{name}"
