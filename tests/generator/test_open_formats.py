"""What crawlers and other programs read besides the pages (issue 19): robots.txt and the
sitemap index at the portal's root, the day each page last changed, schema.org terms."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from generator.pipeline import build

from ..conftest import TODAY

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def lastmods(site: Path) -> dict[str, str]:
    root = ET.parse(site / "sitemap.xml").getroot()
    return {url.findtext(f"{SITEMAP}loc", ""): url.findtext(f"{SITEMAP}lastmod", "") for url in root}


def test_robots_txt_and_the_sitemap_index_lead_crawlers_to_every_site(content: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(content, out, base_url="https://portal.example.org", today=TODAY, show_progress=False)
    robots = (out / "robots.txt").read_text(encoding="utf-8").splitlines()
    assert robots[0] == "User-agent: *" and robots[-1] == "Sitemap: https://portal.example.org/sitemap.xml"
    assert {"Disallow: /konto/", "Disallow: /postfach/", "Disallow: /*/verwaltung/"} <= set(robots)
    assert not any(line in ("Disallow: /", "Disallow: /*/leistungen/") for line in robots)
    index = ET.parse(out / "sitemap.xml").getroot()
    assert index.tag == f"{SITEMAP}sitemapindex"
    listed = [s.findtext(f"{SITEMAP}loc") for s in index]
    assert listed == ["https://portal.example.org/kreis/sitemap.xml", "https://portal.example.org/stadt/sitemap.xml"]
    for loc in listed:
        assert (out / str(loc).removeprefix("https://portal.example.org/")).is_file()


def test_a_page_keeps_its_lastmod_until_it_changes(content: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(content, out, base_url="https://portal.example.org", today=TODAY, show_progress=False)
    first = lastmods(out / "stadt")
    service = "https://portal.example.org/stadt/leistungen/personalausweis-beantragen/"
    other = "https://portal.example.org/stadt/leistungen/kindergeld/"
    assert first[service] == first[other] == TODAY.isoformat()
    path = content / "services/personalausweis-beantragen.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(?m)^teaser: .*$", "teaser: Den Personalausweis beantragen Sie im Bürgerbüro.",
                           text, count=1), encoding="utf-8")
    later = TODAY + dt.timedelta(days=3)
    build(content, out, base_url="https://portal.example.org", today=later, show_progress=False)
    second = lastmods(out / "stadt")
    assert second[service] == later.isoformat()  # its page changed
    assert second[other] == TODAY.isoformat()  # untouched: the day it last changed stays


def jsonld_items(html: str) -> list[dict[str, Any]]:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return [item for block in blocks for item in json.loads(block)["@graph"]]


def test_schema_org_days_are_urls_and_a_fee_range_is_a_price_specification(real_output: Path) -> None:
    site = real_output / "muenster"
    page = (site / "standorte/stadthaus-3-wohnungsamt/index.html").read_text(encoding="utf-8")
    hours = [spec for item in jsonld_items(page) for spec in item.get("openingHoursSpecification", [])]
    assert hours and all(day.startswith("https://schema.org/") for spec in hours for day in spec["dayOfWeek"])
    page = (site / "leistungen/internationaler-fuehrerschein/index.html").read_text(encoding="utf-8")
    service = next(item for item in jsonld_items(page) if item["@type"] == "GovernmentService")
    assert service["offers"][0]["priceSpecification"] == {
        "@type": "PriceSpecification", "priceCurrency": "EUR", "minPrice": 12.2, "maxPrice": 21.1}
    assert "price" not in service["offers"][0]


REAL_SITES = ("hamm", "kreis-coesfeld", "kreis-warendorf", "muenster")


@pytest.mark.parametrize("slug", REAL_SITES)
def test_every_page_of_the_real_sites_speaks_schema_org_terms(real_output: Path, slug: str) -> None:
    offers = 0
    for page in (real_output / slug).rglob("*.html"):
        for item in jsonld_items(page.read_text(encoding="utf-8")):
            for spec in item.get("openingHoursSpecification", []):
                assert all(day.startswith("https://schema.org/") for day in spec["dayOfWeek"]), page
            for offer in item.get("offers", []):
                # a fixed price, a range, or (set by statute) words only
                assert "price" in offer or "priceSpecification" in offer or "description" in offer, page
                offers += 1
    assert offers  # (hours only where a location has sourced ones; a district's town halls are examples)
    listed = [loc.findtext(f"{SITEMAP}loc") for loc in ET.parse(real_output / "sitemap.xml").getroot()]
    assert any(str(url).endswith(f"/{slug}/sitemap.xml") for url in listed)
    assert all(lastmod for lastmod in lastmods(real_output / slug).values())
