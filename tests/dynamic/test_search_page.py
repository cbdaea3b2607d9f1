"""The search without JavaScript: the app answers /<slug>/suche/?q=… with the results written
into the static search page, ranked as the browser script ranks them."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from flask import Flask

from search_index.query import Index


@pytest.fixture(scope="module")
def app(real_output: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from dynamic import create_app
    from dynamic.platform.config import settings_from_env
    from dynamic.serve import migrate_database

    settings = {"output_dir": real_output, "var_dir": tmp_path_factory.mktemp("var"),
                "base_url": "http://127.0.0.1:8000"}
    migrate_database(**settings)
    app = create_app(settings_from_env({}, **settings))
    yield app
    app.extensions["db_engine"].dispose()


def result_links(html: str) -> list[tuple[str, str]]:
    block = html.split('<div id="suchergebnisse">', 1)[1].split("</div>", 1)[0]
    return [(href, unescape(title)) for href, title in re.findall(r'<li><a href="([^"]+)">([^<]+)</a>', block)]


def status(html: str) -> str:
    found = re.search(r'<p id="suchstatus" role="status" aria-live="polite">([^<]*)</p>', html)
    assert found, "no status line"
    return unescape(found.group(1))


@pytest.mark.parametrize(("slug", "query"), [("muenster", "perso"), ("kreis-coesfeld", "hund anmelden"),
                                              ("hamm", "sperrmüll abholen"), ("kreis-warendorf", "umzug")])
def test_results_are_the_ones_the_script_shows_grouped_and_ranked_alike(
        app: Flask, real_output: Path, slug: str, query: str) -> None:
    response = app.test_client().get(f"/{slug}/suche/", query_string={"q": query})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    expected = Index.from_folder(real_output / slug / "suche").search(query, 20)
    assert expected, "the query finds something"
    # Best bets first, then grouped by kind, as ranked.
    groups = list(dict.fromkeys("best" if hit.best else hit.kind for hit in expected))
    grouped = sorted(expected, key=lambda hit: groups.index("best" if hit.best else hit.kind))
    assert result_links(html) == [(hit.url, hit.title) for hit in grouped]
    assert status(html) == f"{len(expected)} Ergebnisse für „{query}“."
    assert f'<input id="suchbegriff" name="q" value="{query}"' in html
    assert f"<title>„{query}“ – Suche – " in html
    assert "<h2>Leistungen</h2>" in html
    assert "Die Suche braucht JavaScript" not in html  # it does not, here
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_words_of_the_query_are_marked_in_the_snippets(app: Flask) -> None:
    html = app.test_client().get("/muenster/suche/?q=hundesteuer").get_data(as_text=True)
    assert re.search(r"<p>[^<]*<mark>Hundesteuer</mark>", html)


def test_what_people_type_is_shown_as_text_never_as_markup(app: Flask) -> None:
    query = '"><script>alert(1)</script>'
    html = app.test_client().get("/muenster/suche/", query_string={"q": query}).get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html


def test_nothing_found_says_what_to_do_instead(app: Flask) -> None:
    html = app.test_client().get("/hamm/suche/?q=xqzvw").get_data(as_text=True)
    assert status(html) == ("Keine Ergebnisse für „xqzvw“. Versuchen Sie ein anderes Wort oder nutzen Sie die "
                            "Liste von A bis Z.")
    assert result_links(html) == []
    assert 'href="/hamm/a-z/"' in html


def test_without_a_query_the_static_page_is_served_unchanged(app: Flask, real_output: Path) -> None:
    for path in ("/muenster/suche/", "/muenster/suche/?q=", "/muenster/suche/?q=+++"):
        response = app.test_client().get(path)
        assert response.status_code == 200
        assert response.data == (real_output / "muenster" / "suche" / "index.html").read_bytes()


def test_an_unknown_municipality_is_not_found(app: Flask) -> None:
    assert app.test_client().get("/gibtsnicht/suche/?q=perso").status_code == 404
    assert app.test_client().get("/.muenster.a/suche/?q=perso").status_code == 404


def test_the_query_never_reaches_the_log(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app.test_client().get("/muenster/suche/?q=Erika+Mustermann+Heidestra%C3%9Fe")
    assert "Mustermann" not in caplog.text and "Heidestra" not in caplog.text
