"""Rules of a municipality's files: municipality.yaml, units, locations, local additions.

Registered per model (generator/validation/rules.py); the references of these files are
checked by the one walker against the ids of this municipality's files.
"""

from __future__ import annotations

from collections.abc import Collection

from portal.grammar import head_word, name_forms

from ..errors import Problem
from ..load import Document, Loc
from ..messages import say
from ..models import Grammar, LocalService, Location, Municipality, Unit, outside_hours
from .content import MunicipalityContent
from .parse import closest
from .rules import Check, rule


def _content(check: Check) -> MunicipalityContent:
    assert check.scope.content is not None, "municipality rules run with the municipality's content"
    return check.scope.content


def _grammar(check: Check, name: str, grammar: Grammar | None) -> None:
    """Pages and mails decline the name („beim Steueramt“); its gender must be known."""
    if name_forms(name, grammar) is None:
        check.problem(("name",), say("artikel-unbekannt", name=name, wort=head_word(name)))


@rule(Municipality)
def _towns(m: Municipality, check: Check) -> None:
    """Each town once; a town's offices, and the units that do what it takes over from the
    district, are its own units."""
    units = _content(check).units
    seen: dict[str, int] = {}
    for index, town in enumerate(m.towns):
        if town.id in seen:
            check.problem(("towns", index, "id"), say("doppelter-ort", kennung=town.id, nummer=seen[town.id]))
        seen.setdefault(town.id, index)
        for role, unit in town.offices.items():
            owner = units[unit].town if unit in units else town.id
            if owner != town.id:
                check.problem(("towns", index, "offices", role), say(
                    "stelle-eines-anderen-orts", einheit=unit, gehoert_zu=owner or "the district", ort=town.id))
        for number, takeover in enumerate(town.takes_over):
            owner = units[takeover.unit].town if takeover.unit in units else town.id
            if owner != town.id:
                check.problem(("towns", index, "takes_over", number, "unit"), say(
                    "stelle-eines-anderen-orts", einheit=takeover.unit, gehoert_zu=owner or "the district",
                    ort=town.id))


@rule(Municipality)
def _logo_exists(m: Municipality, check: Check) -> None:
    if m.branding.logo and check.doc.path.parent.joinpath(m.branding.logo).is_file() is False:
        check.problem(("branding", "logo"), say("logo-fehlt", datei=m.branding.logo))


@rule(Municipality)
def _online_forms_exist(m: Municipality, check: Check) -> None:
    services = check.scope.valid.services
    for index, sid in enumerate(m.features.online_forms):
        online = services[sid].online if sid in services else None
        if sid in services and (online is None or online.form is None):
            check.problem(("features", "online_forms", index), say("formular-ohne-formular", leistung=sid))


@rule(Municipality)
def _appointment_switches(m: Municipality, check: Check) -> None:
    """Each switch names a service that has an appointment type, once, and locations of this
    municipality that can take appointments."""
    content, services = _content(check), check.scope.valid.services
    first_switch: dict[str, int] = {}
    for index, switch in enumerate(m.features.appointments):
        switch_loc: Loc = ("features", "appointments", index, "service")
        if switch.service in first_switch:
            check.problem(switch_loc, say("termin-doppelt-freigeschaltet", leistung=switch.service,
                                          nummer=first_switch[switch.service]))
        first_switch.setdefault(switch.service, index)
        if switch.service in services:
            online = services[switch.service].online
            appointment = online.appointment if online else None
            if appointment is None:
                check.problem(switch_loc, say("termin-ohne-termindauer", leistung=switch.service,
                                              datei=switch.service))
            elif "without_account" in switch.model_fields_set and switch.without_account and (
                appointment.trust_level != "basis"
            ):  # the default applies to counter services (trust level basis) only
                check.problem(("features", "appointments", index, "without_account"), say(
                    "ohne-konto-zu-hohes-niveau", leistung=switch.service, niveau=appointment.trust_level))
        for lid in switch.locations:
            location = content.locations.get(lid)
            if location is None:
                continue  # unknown (the reference walk says so) or with errors in its own file
            ldoc = content.docs[("locations", lid)]
            if m.kind == "kreis" and location.town is None:
                check.problem(("town",), say("terminstandort-ohne-ort", standort=lid, nummer=index), ldoc)
            if not location.booking_settings.hours:
                check.problem(("opening_hours",), say("terminstandort-ohne-zeiten", standort=lid, nummer=index), ldoc)


@rule(Municipality)
def _top_tasks(m: Municipality, check: Check) -> None:
    """Top tasks name known services or the booking page, each once; where appointments are
    bookable online, "Termin buchen" is among the first three (seen on a phone without scrolling)."""
    bookable = bool(m.features.appointments)
    first: dict[str, int] = {}
    for index, task in enumerate(m.top_tasks):
        key = "service" if task.service is not None else "page"
        target = task.service or task.page or ""
        loc: Loc = ("top_tasks", index, key)
        if target in first:
            check.problem(loc, say("anliegen-doppelt", ziel=target, nummer=first[target]))
            check.skip(loc)
            continue
        first[target] = index
        if task.service is None and not bookable:
            check.problem(loc, say("anliegen-termine-ohne-buchung"))
    if bookable and m.top_tasks and first.get("termine", 3) >= 3:
        at = first.get("termine")
        check.problem(("top_tasks", at, "page") if at is not None else ("top_tasks",),
                      say("anliegen-termine-zu-weit-unten"))


@rule(Municipality)
def _municipality_name(m: Municipality, check: Check) -> None:
    _grammar(check, m.name, m.grammar)


def _town_only_in_a_district(check: Check, town: str | None) -> None:
    if town is not None and _content(check).municipality.kind != "kreis":
        check.problem(("town",), say("ort-nur-im-kreis"))


@rule(Unit)
def _unit(unit: Unit, check: Check) -> None:
    _grammar(check, unit.name, unit.grammar)
    _town_only_in_a_district(check, unit.town)
    if _has_cycle(check.doc.id, _content(check).units):
        check.problem(("parent",), say("einheiten-im-kreis"))


@rule(Location)
def _location(location: Location, check: Check) -> None:
    _town_only_in_a_district(check, location.town)
    booking = location.booking
    if booking is None or booking.hours is None:
        return
    for index, span in enumerate(booking.hours):
        days = outside_hours(span, location.opening_hours)
        if days:
            check.problem(("booking", "hours", index),
                          say("buchungszeiten-ausserhalb", beginn=span.opens, ende=span.closes, tage=", ".join(days)))


@rule(LocalService)
def _town_units_only_in_a_district(local: LocalService, check: Check) -> None:
    if local.town_units and _content(check).municipality.kind != "kreis":
        check.problem(("town_units",), say("ortsstellen-nur-im-kreis"))
        check.skip(("town_units",))


def _has_cycle(start: str, units: dict[str, Unit]) -> bool:
    seen = {start}
    current = units[start].parent
    while current is not None and current in units:
        if current in seen:
            return True
        seen.add(current)
        current = units[current].parent
    return False


def check_file_names(docs: list[Document], services: Collection[str], problems: list[Problem]) -> None:
    """A local addition's file name is the id of the shared service it adds to."""
    for doc in docs:
        if doc.id not in services:
            problems.append(Problem(doc.rel, doc.line_of(()), "", say(
                "oertliche-leistung-ohne-leistung", kennung=doc.id, vorschlag=closest(doc.id, services))))
