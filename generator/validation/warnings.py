"""What is valid but probably not meant: an office role nobody was named for, a place without
opening hours, a unit that is responsible but cannot be found. The build goes on and prints
them ("SLUG: warning: …"); `build.py check --strict` reports them as errors, at their file."""

from __future__ import annotations

from ..errors import Problem
from ..load import Document, Loc, _dotted
from ..messages import say
from .content import MunicipalityContent, ValidContent
from .responsibility import all_responsibilities


def content_warnings(content: MunicipalityContent, valid: ValidContent) -> list[Problem]:
    """The warnings of one municipality whose content has no errors."""
    m = content.municipality
    warnings: list[Problem] = []

    def warn(doc: Document, loc: Loc, message: str) -> None:
        warnings.append(Problem(doc.rel, doc.line_of(loc), _dotted(loc) if loc in doc.lines else "", message))

    roles = {(s.level, s.office) for s in valid.services.values() if s.office}
    own_roles = sorted({role for level, role in roles if level == "kreis" or m.kind != "kreis"} - set(m.offices))
    if own_roles:
        warn(content.doc, ("offices",), say("rolle-ohne-stelle", rollen=", ".join(own_roles)))
    if m.kind == "kreis":
        town_roles = sorted({role for level, role in roles if level == "kommune"})
        for role in town_roles:
            missing = [t.name for t in m.towns if role not in t.offices]
            if missing:
                warn(content.doc, ("towns",), say("orte-ohne-stelle", rolle=role, orte=", ".join(missing)))
    for lid, location in sorted(content.locations.items()):
        if not location.opening_hours:
            warn(content.docs[("locations", lid)], (), say("standort-ohne-oeffnungszeiten", standort=lid))
    booked = {lid for switch in m.features.appointments for lid in switch.locations}
    for lid, location in sorted(content.locations.items()):
        ldoc = content.docs[("locations", lid)]
        if lid in booked and location.booking is None:
            warn(ldoc, (), say("terminstandort-ohne-buchungsblock", standort=lid))
        if lid not in booked and location.booking is not None:
            warn(ldoc, ("booking",), say("buchungsblock-ohne-termine", standort=lid))
    used = {r.unit_id for r in all_responsibilities(content, valid)}
    for uid in sorted(used):
        if not content.units[uid].locations:
            warn(content.docs[("units", uid)], (), say("stelle-ohne-standort", einheit=uid))
    return warnings
