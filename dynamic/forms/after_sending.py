"""After sending: the receipt page and its PDF, and starting a form again with the answers
of a rejected application (the signed link in the inbox)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from flask import Response, abort, g, redirect, request
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from katalog.models import Form, FormField

from ..platform import auth
from ..platform.crypto import Unreadable, unseal
from ..platform.db import db
from ..platform.models import Account, Application, FitConnectSubmission, FormDraft, Office
from ..platform.render import page
from . import fields as F
from .drafts import Page, all_fields, breadcrumbs, draft_of, form_or_404, login_at, prefilled, secret, store
from .receipt import receipt_pdf


def restart_signature(secret_key: str, account_id: int, reference: str) -> str:
    """Who may restart from which rejected application: the link in the inbox carries this
    HMAC, so no other site can make a citizen's browser overwrite their draft."""
    key = hmac.new(secret_key.encode(), b"buergerportal-restart", hashlib.sha256).digest()
    return hmac.new(key, f"{account_id}:{reference}".encode(), hashlib.sha256).hexdigest()[:32]


def restart_link(secret_key: str, application: Application) -> str:
    """The inbox link that opens the form again with the rejected application's answers."""
    assert application.account_id is not None
    signature = restart_signature(secret_key, application.account_id, application.reference)
    return f"/{application.slug}/antrag/{application.form_id}/erneut/{application.reference}/?s={signature}"


def _raw_answer(field: FormField, answer: dict[str, Any]) -> Any:
    """An answer of the citizen's copy in the shape a form page sends (None: not taken over)."""
    kind, value = field.type, answer.get("value")
    if kind != answer.get("type") or kind == "file" or value is None:
        return None
    if kind == "date":
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            return None
        return {"tag": str(day.day), "monat": str(day.month), "jahr": str(day.year)}
    if kind == "yesno":
        return "ja" if value else "nein"
    if kind == "number":
        return F.number_text(value)
    if kind == "address":
        return {part: str(value.get(part, "")) for part in F.ADDRESS_PARTS} if isinstance(value, dict) else None
    if kind == "choice":
        return list(value) if isinstance(value, list) else str(value)
    return str(value)


def restart(slug: str, form_id: str, reference: str) -> Page:
    """Start the form again with the answers of a rejected application (from the citizen's
    copy), so the citizen corrects them and sends anew; files are uploaded again. Values
    confirmed by the eID come fresh from the stored data, as for a new draft."""
    form = form_or_404(form_id)
    login = login_at(form)
    if isinstance(login, BaseResponse):
        return login
    application = db().scalar(select(Application).where(Application.reference == reference,
                                                        Application.slug == slug, Application.form_id == form_id))
    expected = restart_signature(secret(), login.account_id, reference)
    if (application is None or application.account_id != login.account_id or application.status != "rejected"
            or not hmac.compare_digest(request.args.get("s", ""), expected)):
        abort(404)
    try:
        copy = unseal(secret(), application.citizen_copy)
    except Unreadable:
        copy = {"answers": []}
    data = prefilled(login.account_id, form)
    fields = {field.id: field for field in all_fields(form)}
    for answer in copy.get("answers", []):
        field = fields.get(str(answer.get("id")))
        if field is None or field.id in data["verified"]:
            continue
        value = _raw_answer(field, answer)
        if value is not None:
            data["raw"][field.id] = value
    office = db().get(Office, application.office_id)
    recipients = form.recipients
    chosen = next((r for r in recipients if office is not None and r.unit == office.unit_id), None)
    data["town"] = chosen.town if chosen is not None and len(recipients) > 1 else None
    draft = draft_of(login.account_id, form)
    if draft is None:
        draft = FormDraft(account_id=login.account_id, slug=slug, form_id=form_id, data="")
        db().add(draft)
    draft.token = secrets.token_urlsafe(24)  # a new application, not a repeat of the rejected one
    store(draft, data)
    db().commit()
    first = F.shown(form, data["raw"])[0][0]
    return redirect(f"/{slug}/antrag/{form_id}/{first.id}/", code=303)



def _own_application(form: Form, reference: str) -> tuple[Application, dict[str, Any]] | BaseResponse:
    login = auth.current_login()
    if login is None:
        return auth.ask_to_log_in("basis", request.path, code=303)
    application = db().scalar(select(Application).where(Application.reference == reference,
                                                        Application.slug == g.site_slug,
                                                        Application.form_id == form.id))
    if application is None or application.account_id != login.account_id:
        abort(404)
    try:
        copy = unseal(secret(), application.citizen_copy)
    except Unreadable:  # SECRET_KEY was changed: the receipt shows what is not encrypted
        copy = {"reference": application.reference, "answers": [], "files": [], "title": form.title,
                "office": "Die zuständige Stelle"}
    return application, copy


def receipt(slug: str, form_id: str, reference: str) -> Page:
    found = _receipt_of(form_id, reference)
    if isinstance(found, BaseResponse):
        return found
    form, application, copy = found
    account = db().get(Account, application.account_id) if application.account_id is not None else None
    return page("antrag/eingang.html", "Antrag eingegangen", crumbs=breadcrumbs(form, "Eingangsbestätigung"),
                application=application, copy=copy, after_sending=form.after_sending,
                duration=_usual_duration(form), notified_at=_notified_address(account),
                reply_by_email=db().scalar(select(FitConnectSubmission.reply_channel).where(
                    FitConnectSubmission.application_id == application.id)) == "eMail")


def _usual_duration(form: Form) -> str | None:
    """How long the form's service usually takes here ("bis zu 5 Tage"), or None where unknown."""
    from portal.text import duration_text

    duration = form.processing_time
    if duration is None:
        return None
    if duration.min == 0:  # "0 bis 5 Tage" reads as "bis zu 5 Tage"
        if duration.max is None:
            return None
        duration = duration.model_copy(update={"min": None})
    return duration_text(duration)


def _notified_address(account: Account | None) -> str | None:
    """The address that learns of new inbox messages (a confirmed one; see inbox.deliver_message)."""
    if account is None or not account.email or account.email_confirmed_at is None:
        return None
    return account.email


def receipt_file(slug: str, form_id: str, reference: str) -> BaseResponse:
    found = _receipt_of(form_id, reference)
    if isinstance(found, BaseResponse):
        return found
    _form_definition, application, copy = found
    pdf = receipt_pdf(g.katalog.municipality.name, application.reference, application.submitted_at, copy)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="Eingangsbestaetigung-{application.reference}.pdf"',
        "Cache-Control": "no-store"})


def _receipt_of(form_id: str, reference: str) -> tuple[Form, Application, dict[str, Any]] | BaseResponse:
    form = form_or_404(form_id)
    found = _own_application(form, reference)
    if isinstance(found, BaseResponse):
        return found
    return form, *found
