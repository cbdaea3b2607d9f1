"""Every page of a built site: links resolve, valid HTML5, landmarks, one h1, JSON-LD."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from generator.pipeline import build

from ..conftest import TODAY
from . import readable
from .pagecheck import PageFacts, broken_links, html5_errors, jsonld_problems, read_page


@pytest.fixture(scope="module")
def fixture_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ..conftest import FIXTURE_CONTENT

    out = tmp_path_factory.mktemp("fixture") / "output"
    build(FIXTURE_CONTENT, out, today=TODAY, show_progress=False)
    return out


@pytest.fixture(scope="module", params=["fixture", "real"])
def output(request: pytest.FixtureRequest) -> Path:
    name = "fixture_output" if request.param == "fixture" else "real_output"
    return request.getfixturevalue(name)


@pytest.fixture(scope="module")
def pages(output: Path) -> list[PageFacts]:
    return [read_page(p) for p in sorted(output.rglob("*.html"))]


def test_every_internal_link_and_anchor_resolves(output: Path, pages: list[PageFacts]) -> None:
    assert len(pages) > 20
    assert broken_links(output, pages) == []


def test_every_page_is_german_with_landmarks_one_h1_and_a_title(pages: list[PageFacts]) -> None:
    problems = []
    for page in pages:
        if page.lang != "de":
            problems.append(f"{page.path}: lang={page.lang}")
        if page.h1 != 1:
            problems.append(f"{page.path}: {page.h1} h1")
        missing = {"header", "nav", "main"} - page.landmarks
        if missing:
            problems.append(f"{page.path}: missing {sorted(missing)}")
        if not page.title.strip():
            problems.append(f"{page.path}: empty title")
        duplicates = [i for i, n in Counter(page.ids).items() if n > 1]
        if duplicates:
            problems.append(f"{page.path}: duplicate ids {duplicates}")
    assert problems == []


def test_every_page_reads_as_text_without_markup_placeholders_or_english(output: Path) -> None:
    """What a citizen reads inside <main> of every built page (tests/site/readable.py)."""
    files = sorted(output.rglob("*.html"))
    assert len(files) > 20
    found = {str(path.relative_to(output)): problems for path in files
             if (problems := readable.problems(path.read_text(encoding="utf-8")))}
    assert found == {}


def test_site_pages_carry_valid_schema_org_data(pages: list[PageFacts]) -> None:
    site_pages = [p for p in pages if p.path.parent.name != "output" and p.path.name != "404.html"]
    assert all(p.jsonld for p in site_pages if "leistungen" in p.path.parts)
    assert [problem for p in site_pages for problem in jsonld_problems(p)] == []


def test_pages_parse_as_html5_without_errors(output: Path) -> None:
    # One page of each kind per site, and the root: html5lib reports every parse error.
    sample: list[Path] = [output / "index.html", output / "404.html"]
    sample += [output / name / "index.html" for name in ("impressum", "datenschutz", "barrierefreiheit")]
    for site in (p for p in output.iterdir() if (p / "katalog.json").is_file()):
        sample += [site / "index.html", site / "404.html"]
        for kind in ("leistungen", "lebenslagen", "organisation", "standorte", "ansprechpersonen", "aktuelles"):
            folder = site / kind
            sample.append(folder / "index.html")
            sample += sorted(folder.glob("*/index.html"))[:2]
        sample += [site / name / "index.html" for name in ("a-z", "impressum", "datenschutz", "barrierefreiheit",
                                                          "leichte-sprache")]
    errors = [e for path in sample for e in html5_errors(path)]
    assert errors == []


def test_pages_load_nothing_from_other_servers(pages: list[PageFacts]) -> None:
    # No framework CSS, web fonts, scripts or images from elsewhere: links to other sites
    # are fine, resources are not.
    external = [f"{p.path}: {url}" for p in pages for url in p.resources if url.startswith(("http:", "https:", "//"))]
    assert external == []


def test_pages_stay_small(output: Path) -> None:
    css = sum(f.stat().st_size for f in (output / "theme" / "css").glob("*.css"))
    assert css < 20_000
    biggest = max((p for p in output.rglob("leistungen/*/index.html")), key=lambda p: p.stat().st_size)
    assert biggest.stat().st_size < 120_000, biggest
