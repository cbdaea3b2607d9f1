"""Builds: pages at the contract URLs, atomic swaps, incremental rebuilds, no double writes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from xml.etree import ElementTree

import pytest

from generator.errors import BuildError
from generator.pipeline import build

from ..conftest import TODAY
from ..site import readable


def site_files(site: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(site)): (p.stat().st_ino, p.read_bytes()) for p in site.rglob("*") if p.is_file()}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "output"


def test_every_contract_url_is_built(content: Path, out: Path) -> None:
    build(content, out, today=TODAY, show_progress=False)
    site = out / "stadt"
    for path in ["index.html", "leistungen/personalausweis-beantragen/index.html", "a-z/index.html",
                 "lebenslagen/index.html", "lebenslagen/umzug/index.html", "ansprechpersonen/erika-beispiel/index.html",
                 "organisation/buergeramt/index.html", "standorte/rathaus/index.html", "aktuelles/index.html",
                 "aktuelles/2026-11-01-neues/index.html", "impressum/index.html", "datenschutz/index.html",
                 "barrierefreiheit/index.html", "leichte-sprache/index.html", "404.html", "sitemap.xml",
                 "katalog.json", "aktuelles/feed.xml", "theme/css/site.css", "theme/brand.css", "logo.svg"]:
        assert (site / path).is_file(), path
    assert (out / "index.html").is_file()
    assert "Kreis Beispiel" in (out / "index.html").read_text()


def test_katalog_json_carries_what_the_dynamic_services_need(content: Path, out: Path) -> None:
    build(content, out, today=TODAY, show_progress=False)
    katalog = json.loads((out / "stadt" / "katalog.json").read_text())
    assert katalog["municipality"]["features"]["online_forms"] == ["meldebescheinigung"]
    ausweis = katalog["services"]["personalausweis-beantragen"]
    assert ausweis["online"]["appointment"]["duration"] == 15
    assert ausweis["appointment_locations"] == ["rathaus"]
    assert katalog["locations"]["rathaus"]["opening_hours"][1] == {"days": ["th"], "opens": "14:00", "closes": "18:00"}
    towns = [r["town"] for r in json.loads((out / "kreis" / "katalog.json").read_text())
             ["services"]["personalausweis-beantragen"]["responsible"]]
    assert towns == ["nordort", "suedort"]


def test_sitemap_lists_every_page_with_the_public_address(content: Path, out: Path) -> None:
    build(content, out, base_url="https://portal.example.org", today=TODAY, show_progress=False)
    sitemap = (out / "stadt" / "sitemap.xml").read_text()
    assert "<loc>https://portal.example.org/stadt/leistungen/kindergeld/</loc>" in sitemap
    assert "<loc>https://portal.example.org/stadt/aktuelles/2026-11-01-neues/</loc>" in sitemap
    assert "404" not in sitemap


def test_rebuild_without_changes_rewrites_no_page(content: Path, out: Path) -> None:
    build(content, out, today=TODAY, show_progress=False)
    before = site_files(out / "stadt")
    results = build(content, out, today=TODAY, show_progress=False)
    after = site_files(out / "stadt")
    service_page = "leistungen/kindergeld/index.html"
    assert after[service_page] == before[service_page]  # same inode: the file was not written again
    stadt = next(r for r in results if r.slug == "stadt")
    assert stadt.rendered == 0


def test_changed_service_rerenders_only_the_pages_that_show_it(content: Path, out: Path) -> None:
    build(content, out, today=TODAY, show_progress=False)
    before = site_files(out / "stadt")
    path = content / "services" / "kindergeld.yaml"
    path.write_text(path.read_text().replace("Beispieltext.", "Ein neuer Text zum Kindergeld."))
    build(content, out, today=TODAY, show_progress=False)
    after = site_files(out / "stadt")
    assert b"Ein neuer Text zum Kindergeld." in after["leistungen/kindergeld/index.html"][1]
    assert after["leistungen/kindergeld/index.html"][0] != before["leistungen/kindergeld/index.html"][0]
    for unchanged in ["leistungen/personalausweis-beantragen/index.html", "a-z/index.html", "impressum/index.html"]:
        assert after[unchanged][0] == before[unchanged][0], unchanged


def test_removed_service_disappears_from_the_site(content: Path, out: Path) -> None:
    build(content, out, today=TODAY, show_progress=False)
    (content / "services" / "kindergeld.yaml").unlink()
    build(content, out, today=TODAY, show_progress=False)
    assert not (out / "stadt" / "leistungen" / "kindergeld").exists()


def test_removed_news_article_disappears_from_both_buffers(content: Path, out: Path) -> None:
    for _ in range(3):  # fill both buffers, then remove from the one that goes live next
        build(content, out, today=TODAY, show_progress=False)
    (content / "municipalities/stadt/news/2026-11-01-neues.md").unlink()
    for _ in range(2):
        build(content, out, today=TODAY, show_progress=False)
        assert not (out / "stadt" / "aktuelles" / "2026-11-01-neues").exists()
        assert "Neue Öffnungszeiten" not in (out / "stadt" / "aktuelles" / "index.html").read_text(encoding="utf-8")


def test_failed_build_leaves_the_previous_site_untouched(content: Path, out: Path) -> None:
    build(content, out, today=TODAY, show_progress=False)
    before = site_files(out / "stadt")
    live = os.readlink(out / "stadt")
    # A Markdown page whose URL collides with a generated page makes the build fail midway.
    (content / "municipalities/stadt/pages/impressum.md").write_text("Title: Impressum\nSlug: impressum\n\nText.\n")
    (content / "services" / "kindergeld.yaml").write_text(
        (content / "services" / "kindergeld.yaml").read_text().replace("Beispieltext.", "Neu."))
    with pytest.raises(BuildError, match="two sources write impressum/index.html"):
        build(content, out, today=TODAY, show_progress=False, workers=1)
    assert site_files(out / "stadt") == before
    assert os.readlink(out / "stadt") == live


def test_invalid_content_builds_nothing(content: Path, out: Path) -> None:
    from generator.errors import ContentError

    build(content, out, today=TODAY, show_progress=False)
    before = site_files(out / "stadt")
    (content / "services" / "kindergeld.yaml").write_text("name: [kaputt\n")
    with pytest.raises(ContentError):
        build(content, out, today=TODAY, show_progress=False)
    assert site_files(out / "stadt") == before


# The feed carries the time of writing when a site has no news yet; the XZuFi change set and its
# record describe what changed since the build before, so they differ by design.
HISTORY = {"aktuelles/feed.xml", "xzufi-aenderungen.xml", ".xzufi-objekte.json"}


def tree(site: Path) -> dict[str, bytes]:
    files = {path: data for path, (_, data) in site_files(site).items() if path not in HISTORY}
    manifest = {key: value for key, value in json.loads(files.pop(".build-manifest.json")).items() if key not in HISTORY}
    return {**files, ".build-manifest.json": json.dumps(manifest, sort_keys=True).encode()}


EDITS = [  # (file, old, new, what the sites show afterwards)
    ("municipalities/stadt/units/buergeramt.yaml", "name: Bürgeramt", "name: Bürgerbüro Mitte", "Bürgerbüro Mitte"),
    ("municipalities/stadt/locations/rathaus.yaml", 'closes: "12:30"', 'closes: "13:00"', "08:00 bis 13:00 Uhr"),
    ("municipalities/stadt/contacts/erika-beispiel.yaml", "role: Sachbearbeiterin", "role: Teamleiterin", "Teamleiterin"),
    ("services/fahrzeug-zulassen.yaml", "name: Fahrzeug zulassen", "name: Auto zulassen", "Auto zulassen"),
    ("life-situations/umzug.yaml", "name: Umzug", "name: Umziehen", "Umziehen"),
    ("municipalities/kreis/units/buergerbuero-nordort.yaml", '"02541 11-0"', '"02541 11-99"', "02541 11-99"),
    ("municipalities/stadt/services/personalausweis-beantragen.yaml", "amount: 40.00", "amount: 41.00", "41,00 €"),
    ("municipalities/stadt/municipality.yaml", 'primary: "#005a9c"', 'primary: "#004080"', "#004080"),
    # booking switched on in a second town: its service and location pages link to booking
    ("municipalities/kreis/municipality.yaml", "locations: [rathaus-nordort]", "locations: [rathaus-nordort, rathaus-suedort]",
     "/kreis/termine/personalausweis-beantragen/rathaus-suedort/"),
    ("municipalities/stadt/locations/rathaus.yaml", "booking: {counters: 2}", "booking: {counters: 3}", '"counters":3'),
    ("services/eheschliessung-anmelden.yaml", "{duration: 45, max_persons: 2}", "{duration: 60, max_persons: 2}",
     "Ein Termin dauert etwa 60 Minuten"),
    # a text-only edit: the kept search index is updated for this one document
    ("services/kindergeld.yaml", "description: Beispieltext.", "description: Neuer Text zum Familiengeld.",
     "Neuer Text zum Familiengeld."),
]


@pytest.mark.parametrize(("file", "old", "new", "shown"), EDITS, ids=[e[3] for e in EDITS])
def test_incremental_build_equals_a_fresh_build(content: Path, tmp_path: Path, file: str, old: str, new: str,
                                                shown: str) -> None:
    incremental, fresh = tmp_path / "incremental", tmp_path / "fresh"
    build(content, incremental, today=TODAY, show_progress=False)
    build(content, incremental, today=TODAY, show_progress=False)  # both buffers exist from here on
    path = content / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    build(content, incremental, today=TODAY, show_progress=False)
    build(content, fresh, today=TODAY, show_progress=False)
    for slug in ("stadt", "kreis"):
        assert tree(incremental / slug) == tree(fresh / slug)
    pages = [data for slug in ("stadt", "kreis") for data in tree(incremental / slug).values()]
    assert any(shown.encode() in data for data in pages)


def test_build_shows_progress_on_a_terminal(content: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build(content, out, today=TODAY, show_progress=True, workers=2)
    progress = capsys.readouterr().err
    assert "kreis " in progress and "stadt " in progress
    assert progress.endswith("\r\x1b[K")  # the line is cleared at the end


def test_cached_content_still_reports_errors_with_their_lines(content: Path, out: Path) -> None:
    from generator.errors import ContentError

    build(content, out, today=TODAY, show_progress=False)  # fills the cache
    # The contact file stays unchanged (served from the cache) but now points nowhere.
    (content / "municipalities/stadt/units/buergeramt.yaml").rename(content / "municipalities/stadt/units/amt.yaml")
    with pytest.raises(ContentError) as caught:
        build(content, out, today=TODAY, show_progress=False)
    assert 'content/municipalities/stadt/contacts/erika-beispiel.yaml:3: unit: unknown unit "buergeramt"' in [
        str(p) for p in caught.value.problems]


EASY_READ = """Title: Leichte Sprache
Slug: leichte-sprache

## Wer hilft Ihnen?

Das **Bürgeramt** hilft Ihnen.

- Sie ziehen um.
- Sie brauchen einen Ausweis.

Schreiben Sie uns: [Kontakt](https://www.example.org/kontakt) & wir antworten.
"""


def test_markdown_pages_and_news_show_headings_lists_and_paragraphs_not_markup(content: Path, out: Path) -> None:
    (content / "municipalities/stadt/pages/leichte-sprache.md").write_text(EASY_READ, encoding="utf-8")
    build(content, out, today=TODAY, show_progress=False)
    page = (out / "stadt" / "leichte-sprache" / "index.html").read_text()
    assert "<h2>Wer hilft Ihnen?</h2>" in page
    assert "<p>Das <strong>Bürgeramt</strong> hilft Ihnen.</p>" in page
    assert "<li>Sie ziehen um.</li>" in page
    assert '<a href="https://www.example.org/kontakt">Kontakt</a> &amp; wir antworten.' in page
    assert readable.visible_text(page).startswith("Leichte Sprache Wer hilft Ihnen? Das Bürgeramt hilft Ihnen. "
                                                 "Sie ziehen um.")
    assert readable.problems(page) == []
    article = (out / "stadt" / "aktuelles" / "2026-11-01-neues" / "index.html").read_text()
    assert "<p>Ab sofort ist das Rathaus donnerstags bis 18 Uhr geöffnet.</p>" in article
    assert readable.problems(article) == []


ATOM = "{http://www.w3.org/2005/Atom}"


def test_news_feed_carries_the_articles_as_html_with_absolute_addresses(content: Path, out: Path) -> None:
    build(content, out, base_url="https://portal.example.org", today=TODAY, show_progress=False)
    feed = ElementTree.parse(out / "stadt" / "aktuelles" / "feed.xml").getroot()
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {"alternate": "https://portal.example.org/stadt/",
                     "self": "https://portal.example.org/stadt/aktuelles/feed.xml"}
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == "Stadt Beispielstadt"
    entry = feed.find(f"{ATOM}entry")
    assert entry is not None
    assert entry.findtext(f"{ATOM}id") == "tag:portal.example.org,2026-11-01:/stadt/aktuelles/2026-11-01-neues/"
    assert entry.find(f"{ATOM}link").get("href") == "https://portal.example.org/stadt/aktuelles/2026-11-01-neues/"  # type: ignore[union-attr]
    # type="html": the reader gets the HTML once escaped inside the XML, so it shows a paragraph
    content_element = entry.find(f"{ATOM}content")
    assert content_element is not None and content_element.get("type") == "html"
    assert content_element.text == "<p>Ab sofort ist das Rathaus donnerstags bis 18 Uhr geöffnet.</p>"
    assert entry.findtext(f"{ATOM}summary") == "<p>Das Rathaus öffnet donnerstags länger.</p>"
