"""The summary of an application's answers and sending it: stored once per draft token,
the citizen told in the inbox, the office told that something waits."""

from __future__ import annotations

from typing import Any

from flask import Response, g, redirect, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as BaseResponse

from katalog.models import Form, Recipient
from portal.grammar import forms_of, upper_first

from ..accounts.profile import FIELD_NAMES, save_back
from ..inbox.views import deliver_message
from ..platform import auth
from ..platform.catalog import grammar_of
from ..platform.db import db
from ..platform.metrics import SUBMITTED
from ..platform.models import Account, Application, FormDraft
from ..platform.render import BERLIN, page
from . import fields as F
from .delivery import NoOffice, forget_draft, office_of, send
from .drafts import (
    ADDRESS_PROFILE,
    SUMMARY,
    Page,
    all_fields,
    breadcrumbs,
    now,
    open_draft,
    recipient_of,
    secret,
    step_url,
)
from .fitconnect import CHANNEL


def summary(form: Form) -> Page:
    sent = _already_sent(form)
    if sent is not None:
        return sent
    opened = open_draft(form)
    if isinstance(opened, BaseResponse):
        return opened
    login, draft, data = opened
    slug = g.site_slug
    uploads = {name: F.Upload.from_dict(value) for name, value in data["uploads"].items()}
    today = now().astimezone(BERLIN).date()
    clean, problems, problem_steps = F.check_all(form, data["raw"], uploads, today)
    recipient = recipient_of(form, data)
    if recipient is None:
        return redirect(f"/{slug}/antrag/{form.id}/", code=303)
    errors: dict[str, str] = dict(problems)
    if request.method == "POST" and not problems:
        if request.form.get("erklaerung") != "ja":
            errors["erklaerung"] = "Bestätigen Sie, dass Ihre Angaben richtig und vollständig sind."
        elif request.form.get("token") != draft.token:
            return redirect(request.path, code=303)  # an old page: show the current answers again
        else:
            return _send(form, login, draft, data, clean, recipient, _email_reply_address(login, recipient))
    sections = []
    for step_def, fields in F.shown(form, data["raw"]):
        rows = []
        for field in fields:
            name = field.id
            text = F.display(field, clean[name]) if name in clean else ("keine Angabe" if name not in problems
                                                                         else "fehlt noch")
            proof = data["verified"].get(name)
            rows.append((field, text, proof["source"] if proof else None))
        sections.append((step_def, rows))
    step_defs = {s.id: s for s in form.steps}
    links = {name: step_url(form, step_defs[problem_steps[name]], F.depths(step_defs[problem_steps[name]])[name],
                             True) + f"#feld-{name}" for name in problems}
    return page("antrag/zusammenfassung.html", f"{form.title}: Angaben prüfen",
                status=400 if errors and request.method == "POST" else 200, errors=errors,
                crumbs=breadcrumbs(form, "Angaben prüfen"), form=form, sections=sections, problems=problems,
                problem_links=links, recipient=recipient, token=draft.token, base=f"/{slug}/antrag/{form.id}/",
                can_save_back=any(f.prefill for f in all_fields(form)),
                mandate=_mandate(form, recipient, clean), reply_address=_email_reply_address(login, recipient))


def _email_reply_address(login: auth.Login, recipient: Recipient) -> str | None:
    """The address the citizen may let the office answer to by e-mail: the account's confirmed
    one, offered only when the office receives through FIT-Connect (whose metadata carries a
    reply channel; our own API answers into the portal's inbox)."""
    office = office_of(db(), g.site_slug, recipient.unit)
    if office is None or office.channel != CHANNEL:
        return None
    account = db().get(Account, login.account_id)
    if account is None or not account.email or account.email_confirmed_at is None:
        return None
    return account.email


def _mandate(form: Form, recipient: Recipient, clean: dict[str, Any]) -> dict[str, Any] | None:
    """The SEPA direct-debit mandate the citizen grants with these answers, naming its creditor:
    the municipality's (in a district the town's) from the knowledge base; without one there,
    the municipality or town by name, its creditor identifier left to the notice."""
    mandate = form.sepa_mandate
    if mandate is None or not F.condition_met(mandate.when, F.raw_like(clean)):
        return None
    creditor = recipient.sepa_creditor
    fields = {f.id: f for f in all_fields(form)}
    account = next((F.display(fields[name], value) for name, value in clean.items()
                    if fields[name].type == "iban"), None)
    return {"purpose": mandate.purpose, "account": account,
            "creditor": (creditor.name if creditor else None) or recipient.town_name or g.katalog.municipality.name,
            "creditor_id": creditor.creditor_id if creditor else None,
            "example": bool(creditor.example) if creditor else False}


def _already_sent(form: Form) -> BaseResponse | None:
    """A repeated send (double click, a retried request): the receipt of the first one."""
    login = auth.current_login()
    token = request.form.get("token") if request.method == "POST" else None
    if login is None or not token:
        return None
    application = db().scalar(select(Application).where(Application.submission_token == token))
    if application is None or application.account_id != login.account_id:
        return None
    return redirect(f"/{g.site_slug}/antrag/{form.id}/eingang/{application.reference}/", code=303)


def _send(form: Form, login: auth.Login, draft: FormDraft, data: dict[str, Any], clean: dict[str, Any],
          recipient: Recipient, reply_address: str | None) -> BaseResponse:
    slug, current = g.site_slug, now()
    answers, files = [], []
    for step_def, field in F.answers_in_order(form, clean):
        value = clean[field.id]
        if field.type == "file":
            files.append({"field": field.id, "name": value["name"], "content_type": value["content_type"],
                          "size": value["size"], "data": value["data"]})
            value = {k: value[k] for k in ("name", "content_type", "size")}
        answers.append({"id": field.id, "label": field.label, "step": step_def.title, "type": field.type,
                        "value": value, "text": F.display(field, clean[field.id]),
                        "verified": field.id in data["verified"]})
    token = draft.token
    try:
        application, new = send(db(), slug=slug, form=form, recipient=recipient, account_id=login.account_id,
                                level=login.level, means=login.means, token=token, answers=answers, files=files,
                                now=current, secret_key=secret(),
                                reply_email=reply_address if request.form.get("antwort_per_email") == "ja" else None)
    except NoOffice:
        return _no_office(form, recipient)
    if new:
        receipt = f"/{slug}/antrag/{form.id}/eingang/{application.reference}/"
        at = forms_of(grammar_of(recipient)).at
        deliver_message(login.account_id, slug, recipient.name, f"Antrag eingegangen: {form.title}",
                        f"Ihr Antrag »{form.title}« ist am {current.astimezone(BERLIN):%d.%m.%Y um %H:%M} Uhr "
                        f"{at} eingegangen.\n\nVorgangsnummer: {application.reference}\n\n"
                        + (f"{form.after_sending}\n\n" if form.after_sending else "")
                        + "Schreibt Ihnen die Stelle über das Portal, finden Sie die Nachricht hier im Postfach "
                        "und können darauf antworten.", link=receipt)
        if request.form.get("speichern") == "ja":
            save_back(login.account_id, _profile_values(form, clean, data))
        _notify_office(form, recipient, application.reference)
        forget_draft(db(), login.account_id, slug, form.id)
        try:
            db().commit()
            SUBMITTED.labels(slug, form.id).inc()
        except IntegrityError:  # the same submission, sent twice at once: the other one was stored
            db().rollback()
            stored = db().scalar(select(Application).where(Application.submission_token == token))
            if stored is None:
                raise
            application = stored
    return redirect(f"/{slug}/antrag/{form.id}/eingang/{application.reference}/", code=303)


def _no_office(form: Form, recipient: Recipient) -> BaseResponse:
    office = upper_first(forms_of(grammar_of(recipient)).nominative)
    html, _status = page("konto/hinweis.html", "Antrag kann nicht gesendet werden", status=503,
                         message=(f"{office} kann Anträge zurzeit nicht online "
                                  "empfangen. Ihre Eingaben bleiben gespeichert. Bitte versuchen Sie es später noch "
                                  "einmal."),
                         link=(f"/{g.site_slug}/antrag/{form.id}/{SUMMARY}/", "Zurück zur Zusammenfassung"))
    return Response(html, status=503)


def _profile_values(form: Form, clean: dict[str, Any], data: dict[str, Any]) -> dict[str, str]:
    """Answers of prefilled fields as profile values, for "save to my data"."""
    values: dict[str, str] = {}
    for field in all_fields(form):
        source, name = field.prefill, field.id
        if not source or name not in clean or name in data["verified"]:
            continue
        value = clean[name]
        if source == "address":
            values.update({profile: value[part] for part, profile in ADDRESS_PROFILE.items()})
        elif source in FIELD_NAMES:
            values[source] = value if isinstance(value, str) else str(value)
    return values


def _notify_office(form: Form, recipient: Recipient, reference: str) -> None:
    """The office learns that something is waiting, never what (the API has it, encrypted)."""
    from ..platform.outbox import queue_mail

    if recipient.email:
        queue_mail(recipient.email, "antrag-fuer-amt", None, reference=reference, title=form.title)
