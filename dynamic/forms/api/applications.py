"""The office's applications: the list in pages, one application, the confirmation of
receipt, its attachments, and the public JSON Schema of a form's data.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Response, current_app, g, jsonify, request
from sqlalchemy import and_, or_, select

from katalog import formschema

from ...platform import config
from ...platform.db import db
from ...platform.models import Application, ApplicationAttachment
from ..delivery import mark_received
from . import api
from .errors import ApiError
from .models import (
    ATTACHMENT_ID,
    DEFAULT_LIMIT,
    FORM_ID,
    LIST_PARAMETERS,
    MAX_LIMIT,
    ApplicationFile,
    ApplicationSummary,
)
from .offices import mine
from .paging import after, bad_parameter, cursor_at, timestamp


def summary(application: Application) -> dict[str, Any]:
    return ApplicationSummary(reference=application.reference, form=application.form_id,
                              submitted_at=application.submitted_at, status=application.status,  # type: ignore[arg-type]
                              received_at=application.received_at).model_dump(mode="json")


def _cursor(application: Application) -> str:
    """Opaque to the office: base64url of the last listed application's (submitted_at, id)."""
    return cursor_at(application.submitted_at, application.id)


@api.get("/applications")
def applications() -> Response:
    """A page of the office's applications, oldest first, and the cursor of the next page."""
    for name in request.args:
        if name not in LIST_PARAMETERS:
            raise bad_parameter(name[:50], "Diesen Parameter gibt es nicht; erlaubt sind status, limit, after und "
                                           "since.")
        if len(request.args.getlist(name)) > 1:
            raise bad_parameter(name, "Geben Sie diesen Parameter nur einmal an.")
    since = None
    if "since" in request.args:
        since = timestamp(request.args["since"])
        if since is None:
            raise bad_parameter("since", "Geben Sie einen Zeitpunkt nach RFC 3339 mit Zeitzone an, etwa "
                                         "2026-03-01T08:00:00Z (ein + der Zeitzone als %2B kodiert).")
    status = request.args.get("status", "new" if since is None else "all")
    if status not in ("new", "received", "rejected", "all"):
        raise ApiError(400, "bad_request", "status muss new, received, rejected oder all sein.")
    limit_text = request.args.get("limit", str(DEFAULT_LIMIT))
    if re.fullmatch(r"[0-9]{1,3}", limit_text) is None or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise bad_parameter("limit", f"Geben Sie eine ganze Zahl von 1 bis {MAX_LIMIT} an.")
    limit = int(limit_text)

    query = select(Application).where(Application.office_id == g.office.id)
    if status != "all":
        query = query.where(Application.status == status)
    if since is not None:
        query = query.where(Application.submitted_at >= since)
    if "after" in request.args:
        when, last_id = after(request.args["after"])
        query = query.where(or_(Application.submitted_at > when,
                                and_(Application.submitted_at == when, Application.id > last_id)))
    found = db().scalars(query.order_by(Application.submitted_at, Application.id).limit(limit + 1)).all()
    shown = found[:limit]
    return jsonify(applications=[summary(a) for a in shown],
                   next=_cursor(shown[-1]) if len(found) > limit else None)


@api.get("/applications/<reference>")
def application(reference: str) -> Response:
    found = mine(reference)
    return jsonify({**summary(found), "jwe": found.jwe})


def still_open(application: Application) -> None:
    """A rejected application is closed: it is neither confirmed, rejected nor forwarded again."""
    if application.status == "rejected":
        raise ApiError(409, "rejected", "Dieser Antrag wurde bereits abgelehnt und ist abgeschlossen.")


@api.post("/applications/<reference>/receipt")
def confirm_receipt(reference: str) -> Response:
    found = mine(reference)
    still_open(found)
    mark_received(found)
    db().commit()
    return jsonify(summary(found))


def _listed(row: ApplicationAttachment) -> dict[str, Any]:
    return ApplicationFile(id=row.public_id, name=row.name, content_type=row.content_type, size=row.size,
                           sha512=row.sha512).model_dump(mode="json")


@api.get("/applications/<reference>/attachments")
def attachments(reference: str) -> Response:
    """The application's attachments (the citizen's uploads and the application's PDF)."""
    found = mine(reference)
    rows = db().scalars(select(ApplicationAttachment).where(ApplicationAttachment.application_id == found.id)
                        .order_by(ApplicationAttachment.id)).all()
    return jsonify(attachments=[_listed(row) for row in rows])


@api.get("/applications/<reference>/attachments/<attachment_id>")
def attachment(reference: str, attachment_id: str) -> Response:
    """One attachment, encrypted for the office; only under its own application."""
    found = mine(reference)
    row = None
    if re.fullmatch(ATTACHMENT_ID[1:-1], attachment_id) is not None:
        row = db().scalar(select(ApplicationAttachment).where(ApplicationAttachment.public_id == attachment_id,
                                                             ApplicationAttachment.application_id == found.id))
    if row is None:
        raise ApiError(404, "not_found", "Diesen Anhang gibt es zu diesem Antrag nicht.")
    return jsonify({**_listed(row), "jwe": row.jwe})


@api.get("/forms/<form_id>/<version>/schema.json")
def form_schema(form_id: str, version: str) -> Response:
    """The JSON Schema of a form's data at a version, public: from the built catalogues for
    the current version, else from the published snapshot in the repository."""
    from ...platform.catalog import katalog

    unknown = ApiError(404, "not_found", "Dieses Formular gibt es in dieser Version nicht.")
    # A form id is at most 100 characters (the database's form_id): a longer one would be a file name
    # too long for the disk (OSError) when the published snapshot is looked up.
    if (len(form_id) > 100 or re.fullmatch(FORM_ID[1:-1], form_id) is None
            or re.fullmatch(r"[1-9][0-9]{0,5}", version) is None):
        raise unknown
    number, url = int(version), formschema.schema_url(config.settings().base_url, form_id, int(version))
    found: dict[str, Any] | None = None
    for path in sorted(config.output_dir().glob("[!.]*/katalog.json")):
        known = katalog(path.parent.name)
        form = known.forms.get(form_id) if known else None
        data = {**form.model_dump(mode="json"), "id": form_id} if form is not None else None
        if data is not None and formschema.version_of(data) == number:
            found = formschema.form_schema(data, url)
            break
    if found is None:
        snapshot = formschema.REPOSITORY_SNAPSHOTS / formschema.snapshot_name(form_id, number)
        if not snapshot.is_file():
            raise unknown
        found = {**json.loads(snapshot.read_text(encoding="utf-8")), "$id": url}
    response = current_app.response_class(json.dumps(found, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                          mimetype="application/schema+json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
