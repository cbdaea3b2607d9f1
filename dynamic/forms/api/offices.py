"""Which office asks (its bearer token), the applications it may see, and the other offices
of its municipality with their names from the published katalog.
"""

from __future__ import annotations

import re

from flask import Response, g, jsonify, request
from sqlalchemy import select

from katalog.models import Katalog
from portal.grammar import NameForms, forms_of

from ...platform.db import db
from ...platform.models import Application, Office
from ..delivery import office_by_token, office_of
from . import api
from .errors import ApiError
from .models import MAX_REQUEST_MB, REFERENCE_ANY_CASE, UNIT, OfficeKey


@api.before_request
def _authenticate() -> None:
    request.max_content_length = MAX_REQUEST_MB * 1024 * 1024  # five attachments of 5 MB, base64
    if request.endpoint == "api.openapi" or request.path.startswith("/api/v1/forms/"):  # public documents
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    office = office_by_token(db(), token.strip()) if scheme.lower() == "bearer" else None
    if office is None:
        raise ApiError(401, "unauthorized", "Ein gültiger Schlüssel der Stelle (Bearer-Token) fehlt.")
    g.office = office


def mine(reference: str) -> Application:
    """The office's application by its reference, in any case (`a-2026-…` is `A-2026-…`)."""
    office: Office = g.office
    if re.fullmatch(REFERENCE_ANY_CASE[1:-1], reference) is None:
        raise ApiError(404, "not_found", "Diesen Antrag gibt es für Ihre Stelle nicht.")
    application = db().scalar(select(Application).where(Application.reference == reference.upper()))
    if application is None or application.office_id != office.id:
        raise ApiError(404, "not_found", "Diesen Antrag gibt es für Ihre Stelle nicht.")
    return application


def colleague(unit: str) -> Office | None:
    """Another registered office of the same municipality (in a district also a member town's);
    never one of another municipality."""
    if len(unit) > 100 or re.fullmatch(UNIT[1:-1], unit) is None:
        return None
    return office_of(db(), g.office.slug, unit)


@api.get("/offices/<unit>/key")
def office_key(unit: str) -> Response:
    """The public key of another office of the same municipality, to forward an application."""
    target = colleague(unit)
    if target is None:
        raise ApiError(404, "not_found", "Diese Stelle gibt es in Ihrer Kommune nicht, oder sie empfängt keine "
                                         "Anträge online.")
    return jsonify(OfficeKey(unit=target.unit_id, name=office_name(target),
                             key=target.public_jwk).model_dump(mode="json"))


def office_forms(office: Office) -> NameForms:
    """The office's name declined („an das Steueramt“), from the published katalog."""
    from ...platform.catalog import grammar_of, katalog

    found = katalog(office.slug)
    unit = found.units.get(office.unit_id) if found else None
    return forms_of(grammar_of(unit) if unit is not None else {"name": office.unit_id})


def office_name(office: Office) -> str:
    from ...platform.catalog import katalog

    found = katalog(office.slug)
    unit = found.units.get(office.unit_id) if found else None
    return unit.name if unit is not None and unit.name else office.unit_id


def form_title(found: Katalog | None, form_id: str) -> str:
    """A form's title from the municipality's katalog; its id where the form is gone."""
    form = found.forms.get(form_id) if found else None
    return form.title if form is not None and form.title else form_id
