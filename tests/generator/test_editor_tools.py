"""Editor tools: skeletons (build.py new), GitHub annotations (check --format github) and
the link check (check --links). Links are only ever asked of a server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import typing
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from pydantic import BaseModel, Field

from generator import links
from generator.errors import Problem
from generator.models import Contact, Form, Location, Model, Service
from generator.skeleton import NEW_KINDS, render

ROOT = Path(__file__).resolve().parent.parent.parent
# Any request that would leave this machine goes to a closed local port instead.
NO_WAY_OUT = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key.lower() not in ("https_proxy", "http_proxy",
                                                                                  "no_proxy", "all_proxy")}
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], cwd=ROOT, capture_output=True, text=True,
                          encoding="utf-8", timeout=120, env={**env, **NO_WAY_OUT})


def files_below(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- build.py new ----------------------------------------------------------------------------

NEW_CASES = [
    pytest.param(["service", "hund-anmelden"], "services/hund-anmelden.yaml", "6 services, 2 municipalities",
                 id="service"),
    pytest.param(["location", "buergerbuero-mitte", "--municipality", "stadt"],
                 "municipalities/stadt/locations/buergerbuero-mitte.yaml", "5 services, 2 municipalities",
                 id="location-in-a-city"),
    pytest.param(["location", "aussenstelle", "--municipality", "kreis"],
                 "municipalities/kreis/locations/aussenstelle.yaml", "5 services, 2 municipalities",
                 id="location-in-a-district"),
    pytest.param(["contact", "max-mustermann", "--municipality", "stadt"],
                 "municipalities/stadt/contacts/max-mustermann.yaml", "5 services, 2 municipalities",
                 id="contact"),
]


@pytest.mark.parametrize(("args", "where", "counts"), NEW_CASES)
def test_a_fresh_skeleton_is_written_in_place_and_passes_check(content: Path, args: list[str], where: str,
                                                               counts: str) -> None:
    result = run("new", *args, "--content", str(content))
    assert result.returncode == 0, result.stderr
    assert f"angelegt: content/{where}" in result.stdout
    assert (content / where).is_file()
    checked = run("check", "--content", str(content))
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == f"content OK: {counts}"


def test_a_contact_starts_with_the_general_unit_of_its_municipality(content: Path) -> None:
    result = run("new", "contact", "max-mustermann", "--municipality", "stadt", "--content", str(content))
    data = yaml.safe_load((content / "municipalities/stadt/contacts/max-mustermann.yaml").read_text(encoding="utf-8"))
    assert data["unit"] == "buergerservice"  # offices.general of stadt
    assert 'unit ist vorerst "buergerservice"' in result.stdout


def test_a_form_for_a_service_that_names_it_passes_check(content: Path) -> None:
    """Without --service the form belongs to the service of the same id."""
    (content / "forms/meldebescheinigung.yaml").unlink()
    result = run("new", "form", "meldebescheinigung", "--content", str(content))
    assert result.returncode == 0, result.stderr
    assert "Hinweis" not in result.stdout
    checked = run("check", "--content", str(content))
    assert checked.returncode == 0, checked.stderr


def test_a_form_takes_the_services_trust_level_and_check_says_what_the_service_lacks(content: Path) -> None:
    result = run("new", "form", "zulassung", "--service", "fahrzeug-zulassen", "--content", str(content))
    assert result.returncode == 0, result.stderr
    assert ('Hinweis: die Leistung "fahrzeug-zulassen" nennt diesen Antrag noch nicht: in '
            'content/services/fahrzeug-zulassen.yaml unter online: "form: zulassung" eintragen') in result.stdout
    form = content / "forms/zulassung.yaml"
    text = form.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert data["service"] == "fahrzeug-zulassen" and data["trust_level"] == "hoch"
    line = text.splitlines().index("service: fahrzeug-zulassen") + 1

    checked = run("check", "--content", str(content))
    assert checked.returncode == 1
    assert checked.stderr.splitlines()[0] == (
        f'content/forms/zulassung.yaml:{line}: service: service "fahrzeug-zulassen" does not name this form '
        '(its online.form must be "zulassung")')

    service = content / "services/fahrzeug-zulassen.yaml"
    service.write_text(service.read_text(encoding="utf-8") + "  form: zulassung\n", encoding="utf-8")
    checked = run("check", "--content", str(content))
    assert checked.returncode == 0, checked.stderr


REFUSALS = [
    pytest.param(["service", "kindergeld"], "Fehler: content/services/kindergeld.yaml gibt es schon", id="exists"),
    pytest.param(["location", "rathaus", "--municipality", "stadt"],
                 "Fehler: content/municipalities/stadt/locations/rathaus.yaml gibt es schon", id="location-exists"),
    pytest.param(["service", "Hund_Anmelden"], 'Fehler: "Hund_Anmelden" ist keine gültige Kennung', id="bad-id"),
    pytest.param(["service", "hund--anmelden"], 'Fehler: "hund--anmelden" ist keine gültige Kennung',
                 id="double-hyphen"),
    pytest.param(["form", "ummeldung-ä"], 'Fehler: "ummeldung-ä" ist keine gültige Kennung', id="umlaut"),
    pytest.param(["location", "buero"], "Fehler: location braucht --municipality SLUG", id="no-municipality"),
    pytest.param(["contact", "erika", "--municipality", "berlin"],
                 'Fehler: keine Kommune "berlin" in content/municipalities (bekannt: kreis, stadt)',
                 id="unknown-municipality"),
    pytest.param(["service", "hund", "--municipality", "stadt"], "Fehler: --municipality gilt nur für location und "
                 "contact", id="municipality-for-a-service"),
    pytest.param(["contact", "erika", "--municipality", "stadt", "--service", "kindergeld"],
                 "Fehler: --service gilt nur für form", id="service-for-a-contact"),
    pytest.param(["form", "hundesteuer"], 'Fehler: keine Leistung "hundesteuer" in content/services; mit --service',
                 id="form-without-its-service"),
]


@pytest.mark.parametrize(("args", "message"), REFUSALS)
def test_new_refuses_and_writes_nothing(content: Path, args: list[str], message: str) -> None:
    before = files_below(content)
    result = run("new", *args, "--content", str(content))
    assert result.returncode == 1
    assert result.stderr.startswith(message), result.stderr
    assert files_below(content) == before


def test_new_does_not_overwrite_a_yml_file_of_the_same_id(content: Path) -> None:
    (content / "services/kindergeld.yaml").rename(content / "services/kindergeld.yml")
    before = files_below(content)
    result = run("new", "service", "kindergeld", "--content", str(content))
    assert result.returncode == 1 and "content/services/kindergeld.yml gibt es schon" in result.stderr
    assert files_below(content) == before


def test_new_help_documents_the_form_and_municipality_options() -> None:
    result = run("new", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "--service SERVICE" in text and "--municipality SLUG" in text
    assert "online.form" in text and "CONTENT/municipalities/SLUG/locations|contacts/ID.yaml" in text


# --- the skeleton explains every field, from the model ---------------------------------------


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]


def _literals_in(annotation: Any) -> list[tuple[Any, ...]]:
    if typing.get_origin(annotation) is Literal:
        return [typing.get_args(annotation)]
    return [values for arg in typing.get_args(annotation) for values in _literals_in(arg)]


def every_field(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> Iterator[tuple[str, Any]]:
    """(name, FieldInfo) of every field of the model and of the models inside it."""
    seen = seen if seen is not None else set()
    seen.add(model)
    for name, info in model.model_fields.items():
        yield name, info
        for inner in _models_in(info.annotation):
            if inner not in seen:
                yield from every_field(inner, seen)


def _words(text: str) -> str:
    return " ".join(text.split())


def _comment_text(skeleton: str) -> str:
    """All comments as one line of words (comments wrap; commented-out blocks add '# ')."""
    return _words(" ".join(re.sub(r"^[\s#-]*", "", line) for line in skeleton.splitlines() if "#" in line))


GIVEN = {"service": {}, "location": {}, "contact": {"unit": "buergerservice"}, "form": {"service": "kindergeld"}}


@pytest.mark.parametrize("kind", list(NEW_KINDS))
def test_every_field_is_in_the_skeleton_with_its_description_and_allowed_values(kind: str) -> None:
    model = NEW_KINDS[kind]
    skeleton = render(model, "Titel", GIVEN[kind])
    comments = _comment_text(skeleton)
    for name, info in every_field(model):
        assert re.search(rf"^[ #-]*{name}:", skeleton, re.M), f"{model.__name__}: field {name} is missing"
        if info.description:
            assert _words(info.description) in comments, f"{name}: {info.description}"
        for values in _literals_in(info.annotation):
            shown = ", ".join(yaml.safe_dump(v, default_flow_style=True).removesuffix("...\n").strip() for v in values)
            assert shown in comments, f"{name}: {values}"  # as YAML: quoted where a bare value would not be text


def _comment_above(skeleton: str, key: str) -> str:
    lines = skeleton.splitlines()
    index = next(i for i, line in enumerate(lines) if re.match(rf"(# )?{key}:", line))
    above = []
    while index > 0 and lines[index - 1].startswith("# ") and not re.match(r"# [a-z_]+:", lines[index - 1]):
        index -= 1
        above.insert(0, lines[index][2:])
    return " ".join(above)


@pytest.mark.parametrize("kind", list(NEW_KINDS))
def test_top_level_fields_say_whether_they_are_required_and_their_default(kind: str) -> None:
    model = NEW_KINDS[kind]
    skeleton = render(model, "Titel", GIVEN[kind])
    data = yaml.safe_load(skeleton)
    for name, info in model.model_fields.items():
        comment = _comment_above(skeleton, name)
        if info.is_required():
            assert "Pflichtfeld:" in comment and name in data, name
        else:
            assert "Freiwillig:" in comment, name
            if isinstance(info.default, str | int) and not isinstance(info.default, bool):
                assert f"Standard: {info.default}" in comment, name


def test_the_comments_are_german_sentences_from_the_model() -> None:
    service = render(Service, "Titel")
    assert ("# Verwaltungsebene, die die Leistung erbringt. Pflichtfeld: einer der Werte kommune, kreis, land,\n"
            "# bund.\nlevel: kommune\n") in service
    assert "# Ein Satz, der die Leistung erklärt. Pflichtfeld: Text, mindestens 10 Zeichen.\n" in service
    assert "# LeiKa-Leistungsschlüssel: genau 14 Ziffern, beginnt mit 99. Freiwillig: Text" in service
    form = render(Form, "Titel", {"service": "kindergeld"})
    assert "Freiwillig: einer der Werte basis, niedrig, substantiell, hoch. Standard: basis." in _comment_text(form)
    location = render(Location, "Titel")
    assert ("# E-Mail-Adresse des Standorts. Freiwillig: Text wie »name@example.org« (Muster\n"
            "# ^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$).\n") in location


def test_a_new_field_in_a_model_appears_in_the_skeleton_by_itself() -> None:
    class Neu(Model):
        """Ein Testmodell."""

        farbe: Literal["rot", "gruen"] = Field(description="Lieblingsfarbe")
        anzahl: int = Field(3, ge=1, le=9, description="Wie viele")
        notiz: str | None = None

    skeleton = render(Neu, "Titel")
    assert "# Ein Testmodell.\n" in skeleton
    assert "# Lieblingsfarbe. Pflichtfeld: einer der Werte rot, gruen.\nfarbe: rot\n" in skeleton
    assert "# Wie viele. Freiwillig: eine ganze Zahl, mindestens 1 und höchstens 9. Standard: 3.\n# anzahl: 3\n" in skeleton
    assert "# Freiwillig: Text.\n# notiz: 'TODO: notiz'\n" in skeleton
    assert yaml.safe_load(skeleton) == {"farbe": "rot"}


@pytest.mark.parametrize("model", [Service, Location, Contact, Form], ids=lambda m: m.__name__)
def test_each_commented_out_field_validates_when_switched_on(model: type[BaseModel]) -> None:
    """Removing one level of '# ' from an optional block (an editor's 'toggle comment') gives valid YAML
    for the model; only references to other files are left for check to judge."""
    given = GIVEN[next(kind for kind, m in NEW_KINDS.items() if m is model)]
    lines = render(model, "Titel", given).splitlines()
    starts = [i for i, line in enumerate(lines) if re.match(r"# [a-z_]+:", line)]
    assert starts
    for start in starts:
        end = start + 1
        while end < len(lines) and lines[end].startswith("#  "):
            end += 1
        switched_on = lines[:start] + [line[2:] for line in lines[start:end]] + lines[end:]
        model.model_validate(yaml.safe_load("\n".join(switched_on)))


# --- check --format github -----------------------------------------------------------------


def test_github_annotation_escapes_as_github_documents() -> None:
    import build

    problem = Problem("content/a,b:c.yaml", 3, "fees[0].amount", "50% off\r\nnext: a, b")
    assert build.github_annotation("error", problem) == (
        "::error file=content/a%2Cb%3Ac.yaml,line=3,title=fees[0].amount::50%25 off%0D%0Anext: a, b")
    assert build.github_annotation("warning", Problem("content/x.yaml", 1, "", "kaputt")) == (
        "::warning file=content/x.yaml,line=1::kaputt")


def test_check_format_github_prints_annotations_and_keeps_the_exit_code(content: Path) -> None:
    (content / "services/kindergeld.yaml").write_text("name: Kindergeld\nlevle: bund\n", encoding="utf-8")
    (content / "services/meldebescheinigung.yaml").write_text("name: [kaputt\n", encoding="utf-8")
    result = run("check", "--format", "github", "--content", str(content))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert '::error file=content/services/kindergeld.yaml,line=2,title=levle::unknown key; did you mean "level"?' in lines
    assert "::error file=content/services/kindergeld.yaml,line=1,title=teaser::required field is missing" in lines
    assert any(line.startswith("::error file=content/services/meldebescheinigung.yaml,line=2::YAML syntax error: ")
               for line in lines)
    assert all(line.startswith("::error ") for line in lines)
    assert result.stderr.strip().endswith("error(s); nothing was built.")


def test_check_format_text_is_the_default(content: Path) -> None:
    (content / "services/kindergeld.yaml").write_text("name: Kindergeld\nlevle: bund\n", encoding="utf-8")
    default, text = run("check", "--content", str(content)), run("check", "--format", "text", "--content", str(content))
    assert (default.returncode, default.stdout, default.stderr) == (text.returncode, text.stdout, text.stderr)
    assert default.returncode == 1 and default.stdout == ""


def test_check_format_github_on_valid_content(content: Path) -> None:
    result = run("check", "--format", "github", "--content", str(content))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "content OK: 5 services, 2 municipalities"


# --- finding links -------------------------------------------------------------------------

MARKDOWN_HINTS = """\
hints: |
  Mehr beim [Bundesamt](https://www.bzst.de/kindergeld).
  Oder (siehe https://example.org/a_(b)/c).

  Alte Seite: http://www.example.org/unsicher und http://127.0.0.1:1/lokal
"""


def test_find_links_reports_file_line_and_field_of_every_https_link(content: Path) -> None:
    service = content / "services/kindergeld.yaml"
    service.write_text(service.read_text(encoding="utf-8") + MARKDOWN_HINTS, encoding="utf-8")
    news = content / "municipalities/stadt/news/2026-11-01-neues.md"
    news.write_text(news.read_text(encoding="utf-8") + "\nSiehe <https://www.stadt.example.org/zeiten>.\n",
                    encoding="utf-8")
    found = [(u.path, u.line, u.field, u.url) for u in links.find_links(content)]
    assert found == [
        ("content/municipalities/kreis/municipality.yaml", 8, "website", "https://kreis.example.org"),
        ("content/municipalities/stadt/locations/rathaus.yaml", 19, "quellen[0].url", "https://www.example.org/rathaus"),
        ("content/municipalities/stadt/municipality.yaml", 8, "website", "https://www.example.org"),
        ("content/municipalities/stadt/news/2026-11-01-neues.md", 8, "", "https://www.stadt.example.org/zeiten"),
        ("content/municipalities/stadt/services/personalausweis-beantragen.yaml", 6, "quellen[0].url",
         "https://www.example.org/gebuehrensatzung"),
        ("content/services/fahrzeug-zulassen.yaml", 12, "online.url", "https://www.kba.de"),
        ("content/services/kindergeld.yaml", 5, "authority.url", "https://www.arbeitsagentur.de/familie-und-kinder"),
        ("content/services/kindergeld.yaml", 7, "hints", "https://www.bzst.de/kindergeld"),
        ("content/services/kindergeld.yaml", 8, "hints", "https://example.org/a_(b)/c"),
        ("content/services/personalausweis-beantragen.yaml", 22, "quellen[0].url",
         "https://www.example.org/personalausweis"),
    ]
    local = [u.url for u in links.find_links(content, allow_local_http=True) if not u.url.startswith("https://")]
    assert local == ["http://127.0.0.1:1/lokal"]  # only for tests, and never other http links


def test_the_real_check_asks_only_https_links() -> None:
    for url in ("http://127.0.0.1:1/", "http://www.example.org/"):
        with pytest.raises(ValueError, match="only https links"):
            links.check_urls([url])


# --- asking a local server -------------------------------------------------------------------


class LocalServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, path: str) -> int:
        return sum(1 for _, p in self.requests if p == path)


def _handler(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def answer(self) -> None:
            with server.lock:
                server.requests.append((self.command, self.path))
                seen = server.count(self.path)
                server.in_flight += 1
                server.most_in_flight = max(server.most_in_flight, server.in_flight)
            try:
                status = self.status_for(seen)
            finally:
                with server.lock:
                    server.in_flight -= 1
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def status_for(self, seen: int) -> int:
            path = self.path
            if path in ("/ok", "/target") or path.startswith("/sleepy"):
                if path.startswith("/sleepy"):
                    time.sleep(0.3)
                return 200
            if path == "/missing":
                return 404
            if path == "/flaky":  # two 500s (HEAD and its GET), then fine
                return 500 if seen <= 2 else 200
            if path == "/down":
                return 503
            if path == "/slow":
                time.sleep(6.0)  # well beyond the test timeout, even on a busy machine
                return 200
            if path == "/no-head":
                return 405 if self.command == "HEAD" else 200
            return 404

        def do_HEAD(self) -> None:  # noqa: N802
            if self.path == "/moved":
                return self.redirect()
            self.answer()

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/moved":
                return self.redirect()
            self.answer()

        def redirect(self) -> None:
            with server.lock:
                server.requests.append((self.command, self.path))
            self.send_response(301)
            self.send_header("Location", "/target")
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


@pytest.fixture
def local_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    state = LocalServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    httpd.block_on_close = False
    httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]  # clients that gave up
    state.port = int(httpd.server_address[1])
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ask(urls: list[str], **options: Any) -> dict[str, links.LinkResult]:
    # 3 s: long enough that a busy machine (a CI run on two cores) never makes a quick answer look slow
    options = {"timeout": 3.0, "pause": 0, "allow_local_http": True, **options}
    results, _ = links.check_urls(urls, **options)
    return results


def test_each_kind_of_answer(local_server: LocalServer) -> None:
    closed = f"http://127.0.0.1:{_closed_port()}/weg"
    paths = ["/ok", "/missing", "/flaky", "/down", "/slow", "/no-head", "/moved"]
    results = ask([local_server.url(p) for p in paths] + [closed])
    outcome = {url.rsplit("/", 1)[1]: (r.state, r.reason) for url, r in results.items()}
    assert outcome == {
        "ok": ("ok", "answered 200"),
        "missing": ("dead", "answered 404"),
        "flaky": ("ok", "answered 200"),  # 500 to HEAD and GET, then the retry is answered
        "down": ("flaky", "answered 503"),
        "slow": ("flaky", "did not answer within 3 s"),
        "no-head": ("ok", "answered 200"),
        "moved": ("ok", "answered 200"),
        "weg": ("flaky", "could not be reached (Connection refused)"),
    }
    methods = {path: [m for m, p in local_server.requests if p == path] for path in paths}
    assert methods["/ok"] == ["HEAD"]
    assert methods["/missing"] == ["HEAD", "GET"]  # a refused HEAD is asked again with GET, no retry for 4xx
    assert methods["/flaky"] == ["HEAD", "GET", "HEAD"]
    assert methods["/down"] == ["HEAD", "GET", "HEAD", "GET"]  # one retry only
    assert methods["/slow"] == ["HEAD", "HEAD"]  # a timeout is retried once
    assert methods["/no-head"] == ["HEAD", "GET"]


def test_links_are_asked_concurrently(local_server: LocalServer) -> None:
    urls = [local_server.url(f"/sleepy{i}") for i in range(8)]
    started = time.perf_counter()
    results = ask(urls, timeout=5, workers=8)
    assert {r.state for r in results.values()} == {"ok"}
    assert local_server.most_in_flight > 1
    assert time.perf_counter() - started < 8 * 0.3


def test_answers_are_cached_for_the_given_hours(local_server: LocalServer, tmp_path: Path) -> None:
    cache = tmp_path / ".cache" / "links.json"
    urls = [local_server.url(p) for p in ("/ok", "/missing", "/down")]
    first, asked = links.check_urls(urls, timeout=3.0, pause=0, cache_file=cache, allow_local_http=True)
    assert asked == 3
    stored = json.loads(cache.read_text(encoding="utf-8"))["links"]
    assert {url: entry["state"] for url, entry in stored.items()} == {urls[0]: "ok", urls[1]: "dead"}

    before = len(local_server.requests)
    second, asked = links.check_urls(urls, timeout=3.0, pause=0, cache_file=cache, allow_local_http=True)
    assert asked == 1  # only the flaky one is asked again
    assert {p for _, p in local_server.requests[before:]} == {"/down"}
    assert second[urls[0]] == first[urls[0]] and second[urls[1]].reason == "answered 404"

    before = len(local_server.requests)
    _, asked = links.check_urls(urls, timeout=3.0, pause=0, cache_file=cache, max_age_hours=0,
                                allow_local_http=True)
    assert asked == 3 and {p for _, p in local_server.requests[before:]} == {"/ok", "/missing", "/down"}


def test_check_links_names_file_line_and_field_of_each_bad_link(local_server: LocalServer, content: Path) -> None:
    service = content / "services/kindergeld.yaml"
    service.write_text(
        service.read_text(encoding="utf-8").replace("https://www.arbeitsagentur.de/familie-und-kinder",
                                                    local_server.url("/missing"))
        + f"hints: |\n  Gut: [hier]({local_server.url('/ok')}).\n\n  Langsam: <{local_server.url('/slow')}>\n",
        encoding="utf-8",
    )
    for path in ("services/fahrzeug-zulassen.yaml", "municipalities/stadt/municipality.yaml",
                 "municipalities/kreis/municipality.yaml", "services/personalausweis-beantragen.yaml",
                 "municipalities/stadt/services/personalausweis-beantragen.yaml",
                 "municipalities/stadt/locations/rathaus.yaml"):  # no https link may be asked here
        file = content / path
        file.write_text(re.sub(r"https://\S+", local_server.url("/ok"), file.read_text(encoding="utf-8")),
                        encoding="utf-8")
    report = links.check_links(content, timeout=3.0, pause=0, allow_local_http=True)
    assert [str(p) for p in report.dead] == [
        f"content/services/kindergeld.yaml:5: authority.url: link {local_server.url('/missing')} answered 404"]
    assert [str(p) for p in report.flaky] == [
        f"content/services/kindergeld.yaml:9: hints: link {local_server.url('/slow')} did not answer within 3 s"]
    assert report.links == 3


# --- check --links through build.py ----------------------------------------------------------


def _cache_all_fixture_links(content: Path, out: Path, dead: dict[str, int]) -> None:
    """Answers for every link of the content, so that build.py asks no server at all."""
    entries = {}
    for use in links.find_links(content):
        status = dead.get(use.url, 200)
        entries[use.url] = {"url": use.url, "state": "dead" if status >= 400 else "ok",
                            "reason": f"answered {status}", "status": status, "checked": time.time()}
    cache = out / ".cache" / "links.json"
    cache.parent.mkdir(parents=True)
    cache.write_text(json.dumps({"version": links.CACHE_VERSION, "links": entries}), encoding="utf-8")


def test_check_links_warns_about_a_dead_link_and_fails_only_when_strict(content: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _cache_all_fixture_links(content, out, {"https://www.kba.de": 404})
    expected = "content/services/fahrzeug-zulassen.yaml:12: online.url: link https://www.kba.de answered 404"

    result = run("check", "--links", "--content", str(content), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "content OK: 5 services, 2 municipalities"
    # the links' report follows the content's warnings (files without a source, summarised)
    assert result.stderr.splitlines()[-2:] == [
        expected, "links: 7 checked (7 from cache), 1 dead, 0 not reachable; warnings"]

    strict = run("check", "--strict-links", "--content", str(content), "--out", str(out))
    assert strict.returncode == 1 and expected in strict.stderr.splitlines()

    github = run("check", "--links", "--format", "github", "--content", str(content), "--out", str(out))
    assert github.returncode == 0
    assert ("::warning file=content/services/fahrzeug-zulassen.yaml,line=12,title=online.url::"
            "link https://www.kba.de answered 404") in github.stdout.splitlines()
    github = run("check", "--strict-links", "--format", "github", "--content", str(content), "--out", str(out))
    assert github.returncode == 1
    assert ("::error file=content/services/fahrzeug-zulassen.yaml,line=12,title=online.url::"
            "link https://www.kba.de answered 404") in github.stdout.splitlines()


def test_check_links_adds_to_content_errors_without_changing_their_exit_code(content: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _cache_all_fixture_links(content, out, {})
    (content / "services/kindergeld.yaml").write_text("name: Kindergeld\nlevle: bund\n", encoding="utf-8")
    result = run("check", "--links", "--content", str(content), "--out", str(out))
    assert result.returncode == 1
    assert "1 dead" not in result.stderr and "links: 6 checked (6 from cache)" in result.stderr


def test_a_host_that_does_not_answer_fails_only_with_strict_links(content: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import build

    def unreachable(url: str, session: object, timeout: float = 10, pause: float = 1) -> links.LinkResult:
        return links.LinkResult(url, "flaky", f"did not answer within {timeout:g} s")

    monkeypatch.setattr(links, "probe", unreachable)
    common = ["--content", str(content), "--out", str(tmp_path / "out"), "--links-cache-hours", "0"]
    assert build.main(["check", "--links", *common]) == 0
    err = capsys.readouterr().err
    assert "content/services/fahrzeug-zulassen.yaml:12: online.url: link https://www.kba.de did not answer within 10 s" in err
    assert "7 not reachable; warnings" in err
    assert build.main(["check", "--strict-links", *common]) == 1
    cache = json.loads((tmp_path / "out/.cache/links.json").read_text(encoding="utf-8"))
    assert cache["links"] == {}  # an unreachable host is asked again next time
