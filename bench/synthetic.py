"""A large synthetic knowledge base for benchmarks: N services shared by four municipalities."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import yaml

ROLES = ["citizens_office", "registry_office", "public_order", "trade", "tax", "waste", "building",
         "road_traffic", "driving_licences", "foreigners", "youth", "social", "housing"]
SITUATIONS = ["umzug", "geburt", "heirat", "auto-und-verkehr", "bauen-und-wohnen", "abfall"]
WORDS = ["Antrag", "Bescheinigung", "Genehmigung", "Anmeldung", "Erlaubnis", "Auskunft", "Ausweis", "Zuschuss", "Gebühr", "Nachweis", "Termin", "Unterlagen", "Frist", "Verfahren", "Bürgerbüro", "Verwaltung", "Formular", "Bescheid", "Prüfung", "Beratung"]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _dump(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def service(rng: random.Random, index: int) -> dict[str, object]:
    level = rng.choice(["kommune", "kommune", "kreis", "bund"])
    data: dict[str, object] = {
        "name": f"Leistung {index:05d} {rng.choice(WORDS)}",
        "synonyms": [rng.choice(WORDS).lower() for _ in range(4)],
        "teaser": _text(rng, 12),
        "description": "\n\n".join(_text(rng, 40) for _ in range(3)),
        "prerequisites": [_text(rng, 8) for _ in range(2)],
        "documents": [_text(rng, 6) for _ in range(3)],
        "fees": [{"label": "Gebühr", "amount": round(rng.uniform(5, 80), 2)}],
        "processing_time": {"min": 1, "max": rng.randint(2, 6), "unit": "weeks"},
        "procedure": [_text(rng, 10) for _ in range(3)],
        "life_situations": [rng.choice(SITUATIONS)],
        "level": level,
    }
    if level == "bund":
        data["authority"] = {"name": "Bundesamt", "url": "https://www.bund.de"}
    else:
        data["office"] = rng.choice(ROLES)
    return data


def municipality(slug: str, name: str, towns: list[str]) -> dict[str, object]:
    data: dict[str, object] = {
        "name": name, "short_name": name.split()[-1], "kind": "kreis" if towns else "kreisfreie_stadt",
        "ags": "05515000", "address": {"street": "Marktplatz 1", "postal_code": "48143", "city": name.split()[-1]},
        "phone": "0251 000-0", "email": f"info@{slug}.example.org", "website": f"https://{slug}.example.org",
        "branding": {"primary": "#1d4f91"}, "offices": {"general": "service", **{r: f"amt-{r.replace('_', '-')}" for r in ROLES}},
        "imprint": {"representative": "Bürgermeisterin oder Bürgermeister", "supervisory_authority": "Bezirksregierung Münster"},
        "privacy": {"data_protection_officer": {"email": f"datenschutz@{slug}.example.org"}},
        "accessibility": {"status": "teilweise_vereinbar", "prepared_on": "2026-09-01",
                          "contact": {"email": f"barrierefrei@{slug}.example.org"}},
    }
    if towns:
        data["towns"] = [{"id": t, "name": t.capitalize(), "offices": {"general": f"rathaus-{t}",
                                                                        "citizens_office": f"buergerbuero-{t}"}}
                         for t in towns]
    return data


def make_content(dest: Path, services: int = 2000, seed: int = 7) -> Path:
    """Write a synthetic content tree of `services` shared services into dest (replaced)."""
    rng = random.Random(seed)
    shutil.rmtree(dest, ignore_errors=True)
    for i in range(services):
        _dump(dest / "services" / f"leistung-{i:05d}.yaml", service(rng, i))
    for situation in SITUATIONS:
        _dump(dest / "life-situations" / f"{situation}.yaml",
              {"name": situation.capitalize(), "teaser": _text(rng, 8), "description": _text(rng, 30)})
    sites = {"stadt-a": ("Stadt Anstadt", []), "stadt-b": ("Stadt Bestadt", []),
             "kreis-c": ("Kreis Cekreis", [f"cort{i}" for i in range(11)]),
             "kreis-d": ("Kreis Dekreis", [f"dort{i}" for i in range(13)])}
    for slug, (name, towns) in sites.items():
        folder = dest / "municipalities" / slug
        _dump(folder / "municipality.yaml", municipality(slug, name, towns))
        _dump(folder / "locations" / "haupthaus.yaml", {
            "name": "Haupthaus", "address": {"street": "Marktplatz 1", "postal_code": "48143", "city": "Anstadt"},
            "opening_hours": [{"days": ["mo", "tu", "we", "th", "fr"], "opens": "08:00", "closes": "16:00"}]})
        for unit in ["service", *[f"amt-{r.replace('_', '-')}" for r in ROLES]]:
            _dump(folder / "units" / f"{unit}.yaml", {"name": unit.replace("-", " ").title(), "locations": ["haupthaus"]})
        for town in towns:
            _dump(folder / "locations" / f"rathaus-{town}.yaml", {
                "name": f"Rathaus {town}", "town": town,
                "address": {"street": "Markt 1", "postal_code": "48653", "city": town.capitalize()},
                "opening_hours": [{"days": ["mo", "tu", "we", "th", "fr"], "opens": "08:00", "closes": "12:00"}]})
            for kind in ("rathaus", "buergerbuero"):
                _dump(folder / "units" / f"{kind}-{town}.yaml",
                      {"name": f"{kind.capitalize()} {town}", "town": town, "locations": [f"rathaus-{town}"]})
        (folder / "pages").mkdir(parents=True, exist_ok=True)
        (folder / "pages" / "leichte-sprache.md").write_text("Title: Leichte Sprache\nSlug: leichte-sprache\n\nText.\n",
                                                             encoding="utf-8")
    return dest
