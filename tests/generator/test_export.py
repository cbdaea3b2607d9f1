"""katalog.json: what the dynamic services read about booking, exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from generator.export import KATALOG_VERSION, katalog_json
from generator.pipeline import check
from generator.resolve import resolve

RATHAUS_HOURS = [
    {"days": ["mo", "tu", "we", "fr"], "opens": "08:00", "closes": "12:30"},
    {"days": ["th"], "opens": "14:00", "closes": "18:00"},
]


def katalogs(content: Path) -> dict[str, dict[str, Any]]:
    # Through JSON, as the dynamic tier reads it.
    return {slug: json.loads(katalog_json(c, "https://portal.example.org")) for slug, c in resolve(check(content)).items()}


@pytest.fixture
def built(content: Path) -> dict[str, dict[str, Any]]:
    return katalogs(content)


def test_service_booking_says_how_and_where_citizens_book(built: dict[str, dict[str, Any]]) -> None:
    city = {sid: s["booking"] for sid, s in built["stadt"]["services"].items()}
    assert city == {
        "eheschliessung-anmelden": {"duration": 45, "max_persons": 2, "trust_level": "basis",
                                    "without_account": False, "max_open": 1, "locations": ["rathaus"]},
        "fahrzeug-zulassen": None,
        "kindergeld": None,
        "meldebescheinigung": None,
        "personalausweis-beantragen": {"duration": 15, "max_persons": 1, "trust_level": "basis",
                                       "without_account": False, "max_open": 1, "locations": ["rathaus"]},
    }
    district = {sid: s["booking"] for sid, s in built["kreis"]["services"].items()}
    assert district == {
        "eheschliessung-anmelden": None,  # an appointment type, but the district has not switched it on
        "fahrzeug-zulassen": None,
        "kindergeld": None,
        "meldebescheinigung": None,
        "personalausweis-beantragen": {"duration": 15, "max_persons": 1, "trust_level": "basis",
                                       "without_account": True, "max_open": 1, "locations": ["rathaus-nordort"]},
    }


def test_location_booking_fills_every_default(built: dict[str, dict[str, Any]]) -> None:
    assert {lid: loc["booking"] for lid, loc in built["stadt"]["locations"].items()} == {
        "rathaus": {"counters": 2, "days_ahead": 42, "lead_minutes": 60, "cancel_hours": 24, "step_minutes": 15,
                    "hours": RATHAUS_HOURS},  # no booking hours of its own: the opening hours
    }
    assert {lid: loc["booking"] for lid, loc in built["kreis"]["locations"].items()} == {
        "kreishaus": None,
        "rathaus-nordort": {"counters": 1, "days_ahead": 28, "lead_minutes": 60, "cancel_hours": 24,
                            "step_minutes": 15,
                            "hours": [{"days": ["mo", "tu", "we", "th"], "opens": "08:00", "closes": "11:30"}]},
        "rathaus-suedort": None,  # the town without booking
    }


def test_locations_keep_what_the_schedule_needs(built: dict[str, dict[str, Any]]) -> None:
    rathaus = built["stadt"]["locations"]["rathaus"]
    assert rathaus["opening_hours"] == RATHAUS_HOURS
    assert rathaus["exceptions"] == [{"date": "2026-12-24", "closed": True, "note": "Heiligabend"}]
    assert rathaus["closed_on_public_holidays"] is True
    assert "town" not in rathaus
    assert built["kreis"]["locations"]["rathaus-nordort"]["town"] == "nordort"


def test_katalog_keeps_its_version_and_every_earlier_key(built: dict[str, dict[str, Any]]) -> None:
    city = built["stadt"]
    assert city["version"] == KATALOG_VERSION == 1
    assert set(city) == {"version", "municipality", "services", "units", "locations", "life_situations", "forms"}
    form = city["forms"]["meldebescheinigung"]
    assert form["url"] == "/stadt/antrag/meldebescheinigung/" and form["trust_level"] == "basis"
    recipient = dict(form["recipients"][0])
    # Added later (the version stays): the office's name declined, for the app's sentences.
    assert recipient.pop("grammar")["to"] == "an das Bürgeramt"
    assert [recipient] == [{"unit": "buergeramt", "town": None, "town_name": None, "name": "Bürgeramt",
                            "email": "buergeramt@example.org",
                            "sepa_creditor": {"name": "Stadt Beispielstadt", "creditor_id": "DE98ZZZ09999999999",
                                              "example": True}}]
    assert form["processing_time"] == {"min": 1, "max": 5, "unit": "days"}
    assert form["sepa_mandate"] == {"when": {"field": "art", "equals": "erweitert"},
                                    "purpose": "die Gebühr für die Bescheinigung"}
    assert "sepa_creditor" not in built["kreis"]["forms"]["meldebescheinigung"]["recipients"][0]
    assert [step["id"] for step in form["steps"]] == ["person", "bescheinigung", "zahlung"]
    assert form["steps"][2]["when"] == {"field": "art", "equals": "erweitert"}
    assert set(city["services"]["personalausweis-beantragen"]) == {
        "name", "teaser", "leika", "synonyms", "level", "url", "online", "form_enabled", "appointment_locations",
        "responsible", "contacts", "fees", "booking", "documents",
        "beispiel_felder"}  # provenance (issue 17): which of the service's values are only examples here
    assert city["services"]["personalausweis-beantragen"]["appointment_locations"] == ["rathaus"]
    assert set(city["locations"]["rathaus"]) == {
        "name", "address", "geo", "opening_hours", "closed_on_public_holidays", "exceptions", "accessibility",
        "transport", "url", "booking",
        # provenance (issue 17): the location's sources, when they were checked, which values are examples
        "quellen", "geprueft_am", "beispiel", "beispiel_felder"}


def test_booking_limits_and_a_higher_trust_level_reach_the_katalog(content: Path) -> None:
    service = content / "services" / "eheschliessung-anmelden.yaml"
    service.write_text(service.read_text(encoding="utf-8").replace(
        "{duration: 45, max_persons: 2}", "{duration: 45, max_persons: 2, trust_level: substantiell}"), encoding="utf-8")
    municipality = content / "municipalities" / "stadt" / "municipality.yaml"
    municipality.write_text(municipality.read_text(encoding="utf-8").replace(
        "    - service: eheschliessung-anmelden\n      locations: [rathaus]",
        "    - service: eheschliessung-anmelden\n      locations: [rathaus, rathaus]\n      max_open: 2"),
        encoding="utf-8")
    booking = katalogs(content)["stadt"]["services"]["eheschliessung-anmelden"]["booking"]
    assert booking == {"duration": 45, "max_persons": 2, "trust_level": "substantiell", "without_account": False,
                       "max_open": 2, "locations": ["rathaus"]}



def test_booking_without_an_account_is_the_default_for_counter_services(content: Path) -> None:
    municipality = content / "municipalities" / "stadt" / "municipality.yaml"
    municipality.write_text(municipality.read_text(encoding="utf-8").replace(
        "      without_account: false  # the switch-off: booking only with an account\n", ""), encoding="utf-8")
    service = content / "services" / "eheschliessung-anmelden.yaml"
    service.write_text(service.read_text(encoding="utf-8").replace(
        "{duration: 45, max_persons: 2}", "{duration: 45, max_persons: 2, trust_level: substantiell}"), encoding="utf-8")
    municipality.write_text(municipality.read_text(encoding="utf-8").replace(
        "      locations: [rathaus]\n      without_account: false", "      locations: [rathaus]"), encoding="utf-8")
    services = katalogs(content)["stadt"]["services"]
    assert services["personalausweis-beantragen"]["booking"]["without_account"] is True  # not set: the default
    assert services["eheschliessung-anmelden"]["booking"]["without_account"] is False  # not a counter service


def test_the_documents_to_bring_reach_the_katalog(built: dict[str, dict[str, Any]]) -> None:
    assert built["stadt"]["services"]["personalausweis-beantragen"]["documents"] == [
        "Ihr bisheriger Personalausweis oder Reisepass", "Ein biometrisches Lichtbild"]
    assert built["stadt"]["services"]["kindergeld"]["documents"] == []


# ---------------------------------------------------------------- examples (issue 17)


def test_example_values_are_marked_in_the_katalog(built: dict[str, dict[str, Any]]) -> None:
    """A value nobody could source reaches the app marked, so it never reads as a fact."""
    city = built["stadt"]
    assert city["services"]["eheschliessung-anmelden"]["beispiel_felder"] == ["documents"]
    assert city["services"]["personalausweis-beantragen"]["beispiel_felder"] == []
    rathaus = city["locations"]["rathaus"]
    assert rathaus["beispiel"] is False and rathaus["beispiel_felder"] == ["transport"]
    assert city["municipality"]["beispiel"] is False and city["municipality"]["beispiel_felder"] == []


def test_whole_files_and_single_values_marked_as_examples_reach_the_katalog(content: Path) -> None:
    folder = content / "municipalities" / "stadt"

    def mark(path: Path, line: str) -> None:
        path.write_text(path.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")

    mark(folder / "municipality.yaml", "beispiel_felder: [phone, email]")
    mark(folder / "units" / "buergeramt.yaml", "beispiel: true")
    location = folder / "locations" / "rathaus.yaml"
    location.write_text(location.read_text(encoding="utf-8").replace(
        "beispiel_felder: [transport]", "beispiel_felder: [transport, address, opening_hours]"), encoding="utf-8")
    service = content / "services" / "meldebescheinigung.yaml"
    mark(service, "beispiel_felder: [fees, processing_time]")
    city = katalogs(content)["stadt"]
    assert city["municipality"]["beispiel_felder"] == ["phone", "email"]
    assert city["units"]["buergeramt"]["beispiel"] is True
    assert city["units"]["buergerservice"]["beispiel"] is False
    assert city["locations"]["rathaus"]["beispiel_felder"] == ["transport", "address", "opening_hours"]
    assert city["services"]["meldebescheinigung"]["beispiel_felder"] == ["fees", "processing_time"]
    # The form's usual processing time is not told where it is only an example.
    assert "processing_time" not in city["forms"]["meldebescheinigung"]
