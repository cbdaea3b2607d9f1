"""The validator reports every kind of error with file, line and field, all in one run."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import ContentError
from generator.pipeline import check


def problems_of(content: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        check(content)
    return [str(p) for p in caught.value.problems]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_fixture_content_is_valid(content: Path) -> None:
    valid = check(content)
    assert set(valid.municipalities) == {"stadt", "kreis"}
    assert len(valid.services) == 5


CASES = [
    pytest.param("services/kindergeld.yaml", "name: Kindergeld beantragen", "name: [Kindergeld",
                 "content/services/kindergeld.yaml:2: YAML syntax error: ", id="yaml-syntax"),
    pytest.param("services/fahrzeug-zulassen.yaml", "synonyms:", "synonym:",
                 'content/services/fahrzeug-zulassen.yaml:2: synonym: unknown key; did you mean "synonyms"?',
                 id="unknown-key"),
    pytest.param("services/kindergeld.yaml", "teaser: Kindergeld zahlt die Familienkasse der Bundesagentur für Arbeit.\n", "",
                 "content/services/kindergeld.yaml:1: teaser: required field is missing", id="missing-field"),
    pytest.param("services/personalausweis-beantragen.yaml", "amount: 37.00", 'amount: "zwölf"',
                 'content/services/personalausweis-beantragen.yaml:8: fees[0].amount: expected a number, got "zwölf"',
                 id="wrong-type"),
    pytest.param("services/personalausweis-beantragen.yaml", "life_situations: [umzug]", "life_situations: [umzgu]",
                 'content/services/personalausweis-beantragen.yaml:12: life_situations[0]: unknown life situation "umzgu"; did you mean "umzug"?',
                 id="unknown-reference"),
    pytest.param("services/personalausweis-beantragen.yaml", "related: [fahrzeug-zulassen]", "related: [fahrzeug-zulasen]",
                 'content/services/personalausweis-beantragen.yaml:17: related[0]: unknown service "fahrzeug-zulasen"; did you mean "fahrzeug-zulassen"?',
                 id="unknown-service"),
    pytest.param("municipalities/stadt/municipality.yaml", "citizens_office: buergeramt", "citizens_office: buergerammt",
                 'content/municipalities/stadt/municipality.yaml:12: offices.citizens_office: unknown unit "buergerammt"; did you mean "buergeramt"?',
                 id="unknown-unit"),
    pytest.param("municipalities/stadt/municipality.yaml", "locations: [rathaus]", "locations: [rathause]",
                 'content/municipalities/stadt/municipality.yaml:26: features.appointments[0].locations[0]: unknown location "rathause"; did you mean "rathaus"?',
                 id="unknown-location"),
    pytest.param("municipalities/stadt/contacts/erika-beispiel.yaml", "unit: buergeramt", "unit: standesamt",
                 'content/municipalities/stadt/contacts/erika-beispiel.yaml:3: unit: unknown unit "standesamt"',
                 id="unknown-unit-no-suggestion"),
    pytest.param("municipalities/stadt/locations/rathaus.yaml", 'closes: "12:30"', 'closes: "07:30"',
                 "content/municipalities/stadt/locations/rathaus.yaml:5: opening_hours[0]: opens 08:00 is not before closes 07:30",
                 id="impossible-hours"),
    pytest.param("municipalities/stadt/locations/rathaus.yaml", "- days: [th]\n    opens: 14:00", "- days: [fr]\n    opens: 12:00",
                 "content/municipalities/stadt/locations/rathaus.yaml:4: opening_hours: opening hours overlap on fr: 12:00 is before 12:30",
                 id="overlapping-hours"),
    pytest.param("municipalities/stadt/locations/rathaus.yaml", 'opens: "08:00"', 'opens: "8 Uhr"',
                 'content/municipalities/stadt/locations/rathaus.yaml:6: opening_hours[0].opens: expected a time as HH:MM, got "8 Uhr"',
                 id="bad-time"),
    pytest.param("services/fahrzeug-zulassen.yaml", "url: https://www.kba.de", "url: www.kba.de",
                 'content/services/fahrzeug-zulassen.yaml:12: online.url: expected a full https:// URL, got "www.kba.de"',
                 id="bad-url"),
    pytest.param("services/fahrzeug-zulassen.yaml", "trust_level: hoch", "trust_level: mittel",
                 'content/services/fahrzeug-zulassen.yaml:14: online.trust_level: expected one of basis, niedrig, substantiell, hoch; got "mittel"',
                 id="unknown-trust-level"),
    pytest.param("services/meldebescheinigung.yaml", 'leika: "99115003012000"', 'leika: "9911500301200"',
                 'content/services/meldebescheinigung.yaml:2: leika: expected a LeiKa key of exactly 14 digits starting with 99, got "9911500301200"',
                 id="bad-leika"),
    pytest.param("municipalities/stadt/municipality.yaml", 'primary: "#005a9c"', 'primary: "#ffcc00"',
                 "content/municipalities/stadt/municipality.yaml:9: branding.primary: white text on #ffcc00 has contrast 1.51:1, WCAG AA needs 4.5:1; choose a darker colour",
                 id="unreadable-brand-colour"),
    pytest.param("municipalities/kreis/municipality.yaml", "citizens_office: buergerbuero-nordort", "citizens_office: rathaus-suedort",
                 'content/municipalities/kreis/municipality.yaml:16: towns[0].offices.citizens_office: unit "rathaus-suedort" belongs to suedort, not to nordort',
                 id="town-office-of-other-town"),
    pytest.param("services/personalausweis-beantragen.yaml", "appointment: {duration: 15}", "appointment: {duration: 12}",
                 "content/services/personalausweis-beantragen.yaml:16: online.appointment.duration: the duration must be a multiple of 5 minutes, got 12",
                 id="appointment-off-the-5-minute-grid"),
    pytest.param("municipalities/stadt/locations/rathaus.yaml", "booking: {counters: 2}", "booking: {counters: 0}",
                 "content/municipalities/stadt/locations/rathaus.yaml:17: booking.counters: expected at least 1, got 0",
                 id="no-counter"),
    pytest.param("municipalities/stadt/locations/rathaus.yaml", "booking: {counters: 2}", "booking: {counters: 2, step_minutes: 7}",
                 "content/municipalities/stadt/locations/rathaus.yaml:17: booking.step_minutes: step_minutes must be a multiple of 5 minutes, got 7",
                 id="step-off-the-5-minute-grid"),
    pytest.param("municipalities/stadt/locations/rathaus.yaml", "booking: {counters: 2}", "booking: {counter: 2}",
                 'content/municipalities/stadt/locations/rathaus.yaml:17: booking.counter: unknown key; did you mean "counters"?',
                 id="booking-unknown-key"),
    pytest.param("municipalities/kreis/locations/rathaus-nordort.yaml", '      closes: "11:30"', '      closes: "12:30"',
                 "content/municipalities/kreis/locations/rathaus-nordort.yaml:11: booking.hours[0]: 08:00 to 12:30 on mo, tu, we, th lies outside the opening hours; booking hours must lie within them",
                 id="booking-hours-outside-opening-hours"),
    pytest.param("municipalities/kreis/locations/rathaus-nordort.yaml", "town: nordort\n", "",
                 'content/municipalities/kreis/locations/rathaus-nordort.yaml:1: town: location "rathaus-nordort" takes appointments (features.appointments[0]), so in a district it needs its town: citizens choose where to book by town',
                 id="district-booking-location-without-town"),
    pytest.param("municipalities/kreis/municipality.yaml", "      without_account: true", "      without_account: true\n      max_open: 11",
                 "content/municipalities/kreis/municipality.yaml:34: features.appointments[0].max_open: expected at most 10, got 11",
                 id="too-many-open-appointments"),
    pytest.param("municipalities/stadt/municipality.yaml", "    - service: eheschliessung-anmelden", "    - service: kindergeld",
                 'content/municipalities/stadt/municipality.yaml:28: features.appointments[1].service: service "kindergeld" has no appointment type to switch on; give it online.appointment with the duration in content/services/kindergeld.yaml, or remove this entry',
                 id="booking-for-service-without-appointment"),
    pytest.param("municipalities/stadt/municipality.yaml", "    - service: eheschliessung-anmelden", "    - service: personalausweis-beantragen",
                 'content/municipalities/stadt/municipality.yaml:28: features.appointments[1].service: service "personalausweis-beantragen" is switched on twice (also features.appointments[0]); list all its locations in one entry',
                 id="booking-switched-on-twice"),
    pytest.param("services/personalausweis-beantragen.yaml", "appointment: {duration: 15}", "appointment: {duration: 15, trust_level: hoch}",
                 'content/municipalities/kreis/municipality.yaml:33: features.appointments[0].without_account: service "personalausweis-beantragen" needs trust level hoch for booking (online.appointment.trust_level), which a booking without an account cannot reach',
                 id="booking-without-account-above-basis"),
    pytest.param("services/personalausweis-beantragen.yaml", "name: Personalausweis beantragen\n",
                 "name: Personalausweis beantragen\nname: Nochmal\n",
                 "content/services/personalausweis-beantragen.yaml:2: name: duplicate key (first given on line 1)",
                 id="duplicate-key"),
    pytest.param("forms/meldebescheinigung.yaml", "when: {field: art, equals: erweitert}",
                 "when: {field: iban, equals: erweitert}",
                 'content/forms/meldebescheinigung.yaml:36: steps[2].when.field: "iban" is not a field before this '
                 "one; a condition can only depend on an earlier answer", id="form-condition-on-a-later-field"),
    pytest.param("forms/meldebescheinigung.yaml", "when: {field: weitere, equals: true}",
                 "when: {field: weitere, equals: vielleicht}",
                 'content/forms/meldebescheinigung.yaml:33: steps[1].fields[4].when.equals: "vielleicht" is not an '
                 'answer of "weitere" (true or false)', id="form-condition-with-an-impossible-answer"),
    pytest.param("forms/meldebescheinigung.yaml", "when: {field: art, equals: erweitert}",
                 "when: {field: zweck, equals: erweitert}",
                 'content/forms/meldebescheinigung.yaml:36: steps[2].when.field: "zweck" is a textarea field; a '
                 "condition needs a choice or yesno field", id="form-condition-on-free-text"),
    pytest.param("forms/meldebescheinigung.yaml", "        pattern_message: Geben Sie das Kassenzeichen mit sechs Ziffern an.\n", "",
                 "content/forms/meldebescheinigung.yaml:41: steps[2].fields[2]: a pattern needs a pattern_message "
                 "that tells citizens what to enter", id="form-pattern-without-message"),
    pytest.param("forms/meldebescheinigung.yaml", "{id: vorname, type: text, label: Vorname, prefill: given_name}",
                 "{id: vorname, type: text, label: Vorname, prefill: address}",
                 "content/forms/meldebescheinigung.yaml:11: steps[0].fields[0]: prefill address cannot fill a text "
                 "field (only address)", id="form-prefill-of-the-wrong-kind"),
    pytest.param("forms/meldebescheinigung.yaml", "{id: anzahl, type: number, label: Anzahl der Ausfertigungen, min: 1, max: 5}",
                 "{id: anzahl, type: text, label: Anzahl der Ausfertigungen, min: 1, max: 5}",
                 "content/forms/meldebescheinigung.yaml:27: steps[1].fields[2]: min, max, decimals and unit are only "
                 "for number fields, not text", id="form-rule-for-another-kind-of-field"),
    pytest.param("forms/meldebescheinigung.yaml", "trust_level: basis", "trust_level: hoch",
                 'content/forms/meldebescheinigung.yaml:5: trust_level: the form needs "hoch" but service '
                 '"meldebescheinigung" says online.trust_level "basis"; give both the same level',
                 id="form-and-service-disagree-on-the-level"),
    pytest.param("services/meldebescheinigung.yaml", "form: meldebescheinigung", "form: meldebeschenigung",
                 'content/services/meldebescheinigung.yaml:12: online.form: unknown form (a file in content/forms/) '
                 '"meldebeschenigung"; did you mean "meldebescheinigung"?', id="service-names-an-unknown-form"),
    pytest.param("forms/meldebescheinigung.yaml", "service: meldebescheinigung", "service: kindergeld",
                 'content/forms/meldebescheinigung.yaml:4: service: service "kindergeld" does not name this form '
                 '(its online.form must be "meldebescheinigung")', id="form-for-a-service-that-does-not-name-it"),
    pytest.param("portal.yaml", "  contact:\n", "  contact:\n    unit: buergeramt\n",
                 "content/portal.yaml:28: accessibility.contact.unit: the operator has no units; give the contact's "
                 "email (and phone) only", id="operator-unit"),
    pytest.param("municipalities/stadt/municipality.yaml", "creditor_id: DE98ZZZ09999999999",
                 "creditor_id: DE97ZZZ09999999999",
                 'content/municipalities/stadt/municipality.yaml:33: sepa_creditor.creditor_id: "DE97ZZZ09999999999": '
                 "the check digits 97 do not fit the rest of the number", id="creditor-id-with-wrong-check-digits"),
    pytest.param("municipalities/stadt/municipality.yaml", "creditor_id: DE98ZZZ09999999999",
                 'creditor_id: "DE98 ZZZ 0999 9999 999"',
                 'content/municipalities/stadt/municipality.yaml:33: sepa_creditor.creditor_id: "DE98 ZZZ 0999 9999 999" '
                 "is not a German creditor identifier", id="creditor-id-with-spaces"),
    pytest.param("municipalities/stadt/municipality.yaml", "  example: true", "  example: false",
                 "content/municipalities/stadt/municipality.yaml:31: sepa_creditor: a real creditor identifier needs its "
                 "source and as_of date; an invented one needs example: true", id="real-creditor-id-without-source"),
    pytest.param("forms/meldebescheinigung.yaml", "  when: {field: art, equals: erweitert}\n  purpose:",
                 "  when: {field: zahlungsweise, equals: erweitert}\n  purpose:",
                 'content/forms/meldebescheinigung.yaml:50: sepa_mandate.when.field: "zahlungsweise" is not a field',
                 id="mandate-on-an-unknown-answer"),
    pytest.param("forms/meldebescheinigung.yaml", "{id: iban, type: iban, label: IBAN für die Lastschrift}",
                 "{id: iban, type: iban, label: IBAN für die Lastschrift, compact: true}",
                 "content/forms/meldebescheinigung.yaml:39: steps[2].fields[0]: compact is only for text fields, not iban",
                 id="compact-for-another-kind-of-field"),
]


@pytest.mark.parametrize(("file", "old", "new", "expected"), CASES)
def test_each_error_is_reported_with_file_line_and_field(content: Path, file: str, old: str, new: str,
                                                         expected: str) -> None:
    edit(content / file, old, new)
    found = problems_of(content)
    assert any(p.startswith(expected) or expected in p for p in found), "\n".join(found)


def test_duplicate_ids_name_both_files(content: Path) -> None:
    (content / "services" / "kindergeld.yml").write_text((content / "services" / "kindergeld.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    found = problems_of(content)
    assert 'content/services/kindergeld.yml:1: duplicate id "kindergeld" (also content/services/kindergeld.yaml)' in found


def test_all_errors_are_reported_in_one_run(content: Path) -> None:
    edit(content / "services/fahrzeug-zulassen.yaml", "trust_level: hoch", "trust_level: mittel")
    edit(content / "services/kindergeld.yaml", "level: bund", "level: welt")
    edit(content / "municipalities/stadt/locations/rathaus.yaml", 'closes: "12:30"', 'closes: "07:30"')
    found = problems_of(content)
    files = {p.split(":")[0] for p in found}
    assert files == {"content/services/fahrzeug-zulassen.yaml", "content/services/kindergeld.yaml",
                     "content/municipalities/stadt/locations/rathaus.yaml"}


def test_unquoted_afternoon_time_is_read_as_clock_time(content: Path) -> None:
    # YAML 1.1 reads 14:00 as the number 840; the editor meant two o'clock.
    valid = check(content)
    hours = valid.municipalities["stadt"].locations["rathaus"].opening_hours
    assert (hours[1].opens, hours[1].closes) == ("14:00", "18:00")


def test_feature_switch_for_service_without_form_is_an_error(content: Path) -> None:
    edit(content / "municipalities/stadt/municipality.yaml", "online_forms: [meldebescheinigung]",
         "online_forms: [kindergeld]")
    assert ('content/municipalities/stadt/municipality.yaml:23: features.online_forms[0]: '
            'service "kindergeld" has no online form (online.form) to switch on') in problems_of(content)


def test_news_without_date_is_an_error(content: Path) -> None:
    edit(content / "municipalities/stadt/news/2026-11-01-neues.md", "Date: 2026-11-01\n", "")
    assert ("content/municipalities/stadt/news/2026-11-01-neues.md:1: Date: required field is missing "
            "('Date: YYYY-MM-DD')") in problems_of(content)


def test_booking_at_a_location_of_another_municipality_is_an_error(content: Path) -> None:
    edit(content / "municipalities/kreis/municipality.yaml", "locations: [rathaus-nordort]", "locations: [rathaus]")
    assert ('content/municipalities/kreis/municipality.yaml:32: features.appointments[0].locations[0]: '
            'unknown location "rathaus"; did you mean "rathaus-suedort"?') in problems_of(content)


def test_booking_settings_default_to_the_opening_hours(content: Path) -> None:
    locations = check(content).municipalities["stadt"].locations
    settings = locations["rathaus"].booking_settings
    assert (settings.counters, settings.days_ahead, settings.lead_minutes, settings.cancel_hours,
            settings.step_minutes) == (2, 42, 60, 24, 15)
    assert settings.hours == locations["rathaus"].opening_hours


def test_the_operator_file_is_required(content: Path) -> None:
    (content / "portal.yaml").unlink()
    assert problems_of(content) == ["content/portal.yaml:1: portal.yaml is missing (the operator's imprint, privacy "
                                    "notice and accessibility statement come from it)"]


@pytest.mark.parametrize("slug", ["konto", "impressum", "theme"])
def test_a_municipality_cannot_take_one_of_the_portals_own_addresses(content: Path, slug: str) -> None:
    (content / "municipalities" / "stadt").rename(content / "municipalities" / slug)
    assert f'folder name "{slug}" is taken by the portal\'s own address /{slug}/' in "\n".join(problems_of(content))


@pytest.mark.parametrize("line, shown", [
    ("Bitte <b>rechtzeitig</b> buchen.", "<b>"),
    ('<script>alert("x")</script>', "<script>"),
    ('Hier <a href="javascript:alert(1)">klicken</a>.', '<a href="javascript:alert(1)">'),
    ("<!-- Notiz für die Redaktion -->", "<!--"),
])
def test_raw_html_in_news_and_pages_is_an_error_with_file_and_line(content: Path, line: str, shown: str) -> None:
    edit(content / "municipalities/stadt/news/2026-11-01-neues.md", "geöffnet.", f"geöffnet.\n\n{line}")
    assert (f'content/municipalities/stadt/news/2026-11-01-neues.md:8: raw HTML "{shown}" is not allowed in news '
            "and pages; write Markdown instead (## for a heading, - for a list, [text](address) for a link)"
            ) in problems_of(content)


def test_markdown_that_looks_like_html_is_not_an_error(content: Path) -> None:
    page = content / "municipalities/stadt/pages/leichte-sprache.md"
    edit(page, "Das ist die Seite", "Schreiben Sie an <post@beispiel.de> oder <https://www.beispiel.de>.\n"
                                    "Kinder < 6 Jahre und `<b>` in Code.\n\n```\n<b>Code</b>\n```\n\nDas ist die Seite")
    assert check(content)


def test_a_first_level_heading_in_a_page_is_an_error(content: Path) -> None:
    edit(content / "municipalities/stadt/pages/leichte-sprache.md", "Das ist die Seite", "# Willkommen\n\nDas ist")
    assert ('content/municipalities/stadt/pages/leichte-sprache.md:4: a heading "# …" would be a second page title '
            "(the page takes its title from Title:); start the headings of the text with ##") in problems_of(content)
@pytest.mark.parametrize("creditor_id", [
    "DE98ZZZ09999999999",  # the Bundesbank's example number
    "DE60ZZZ00000083570", "DE22ZZZ00000283007", "DE38ZZZ00000015387",  # published by three towns
])
def test_creditor_ids_are_checked_like_stdnum_checks_sepa_creditor_identifiers(creditor_id: str) -> None:
    from stdnum.eu import at_02

    from generator.models import creditor_id_problem

    assert at_02.is_valid(creditor_id)
    assert creditor_id_problem(creditor_id) is None
    wrong = creditor_id[:2] + f"{(int(creditor_id[2:4]) + 1) % 100:02d}" + creditor_id[4:]
    assert not at_02.is_valid(wrong)
    assert creditor_id_problem(wrong) == f'"{wrong}": the check digits {wrong[2:4]} do not fit the rest of the number'


def test_every_field_that_names_a_file_is_marked_and_walked() -> None:
    """The reference walker finds marked values at any depth: lists, optional fields, dict keys and values."""
    from generator.models import LocalService, Town
    from generator.validation.refs import references

    local = LocalService(unit="amt", town_units={"dorf": "dorfamt"}, contacts=["erika"], locations=["rathaus"])
    assert sorted(references(local), key=str) == sorted([
        (("unit",), "units", "amt"), (("town_units", "dorf"), "towns", "dorf"),
        (("town_units", "dorf"), "units", "dorfamt"), (("contacts", 0), "contacts", "erika"),
        (("locations", 0), "locations", "rathaus")], key=str)
    town = Town(id="dorf", name="Dorf", offices={"general": "amt"})
    assert list(references(town, ("towns", 0))) == [(("towns", 0, "offices", "general"), "units", "amt")]
