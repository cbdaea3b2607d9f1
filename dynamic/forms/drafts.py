"""What every page of an online application shares: the form and its login, the breadcrumbs,
and the citizen's encrypted draft (read, stored, prefilled from the stored data)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, current_app, g, redirect, request
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from katalog.models import Form, FormField, FormStep, Recipient
from portal.levels import at_least

from ..accounts.profile import prefill
from ..platform import auth, config
from ..platform.crypto import Unreadable, seal, unseal
from ..platform.db import db
from ..platform.models import FormDraft, utcnow

Page = tuple[str, int] | BaseResponse
SUMMARY = "zusammenfassung"
ADDRESS_PROFILE = {"strasse": "street", "plz": "postal_code", "ort": "city"}


def now() -> dt.datetime:
    return config.now()


def form_or_404(form_id: str) -> Form:
    found: Form | None = g.katalog.forms.get(form_id)
    if found is None:
        abort(404)
    return found


def login_at(form: Form) -> auth.Login | BaseResponse:
    """The login, or the way to a login at the form's level (what a POST sent is kept)."""
    login = auth.current_login()
    needed = form.trust_level
    if login is None or not at_least(login.level, needed):
        return auth.ask_to_log_in(needed, request.full_path.rstrip("?"), code=303)
    return login


def breadcrumbs(form: Form, title: str | None = None) -> list[tuple[str, str]]:
    slug = g.site_slug
    service = g.katalog.services.get(form.service)
    crumbs = [("Startseite", f"/{slug}/"),
              (service.name if service is not None else form.title, f"/{slug}/leistungen/{form.service}/"),
              ("Antrag", f"/{slug}/antrag/{form.id}/")]
    if title:
        crumbs.append((title, request.path))
    return crumbs


# ---------------------------------------------------------------- drafts


def draft_of(account_id: int, form: Form) -> FormDraft | None:
    return db().scalar(select(FormDraft).where(FormDraft.account_id == account_id, FormDraft.slug == g.site_slug,
                                               FormDraft.form_id == form.id))


def secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def draft_data(draft: FormDraft) -> dict[str, Any]:
    try:
        data = unseal(secret(), draft.data)
    except Unreadable:  # SECRET_KEY was changed: the draft cannot be read, the form starts empty
        data = {}
    data.setdefault("raw", {})
    data.setdefault("uploads", {})
    data.setdefault("verified", {})
    return data


def store(draft: FormDraft, data: dict[str, Any]) -> None:
    draft.data = seal(secret(), data)
    draft.updated_at = utcnow()


def prefilled(account_id: int, form: Form) -> dict[str, Any]:
    """A new draft's answers from the citizen's stored data; values from the eID are marked."""
    mapping: dict[str, str] = {}
    for field in all_fields(form):
        source = field.prefill
        if source == "address":
            for part, profile_field in ADDRESS_PROFILE.items():
                mapping[f"{field.id}\x00{part}"] = profile_field
        elif source:
            mapping[field.id] = source
    found = prefill(account_id, mapping)
    raw: dict[str, Any] = {}
    verified: dict[str, Any] = {}
    for field in all_fields(form):
        name = field.id
        if field.prefill == "address":
            parts = {part: found[f"{name}\x00{part}"] for part in ADDRESS_PROFILE if f"{name}\x00{part}" in found}
            if parts:
                raw[name] = {part: parts[part].value if part in parts else "" for part in ADDRESS_PROFILE}
                if len(parts) == len(ADDRESS_PROFILE) and all(p.verified for p in parts.values()):
                    verified[name] = _proof(parts["strasse"])
        elif name in found:
            value = found[name].value
            if field.type == "date":
                try:
                    day = dt.date.fromisoformat(value)
                except ValueError:
                    continue
                raw[name] = {"tag": str(day.day), "monat": str(day.month), "jahr": str(day.year)}
            elif field.type == "choice" and value not in {o.value for o in field.options}:
                continue
            else:
                raw[name] = value
            if found[name].verified:
                verified[name] = _proof(found[name])
    return {"raw": raw, "uploads": {}, "verified": verified, "prefilled": dict(raw)}


def _proof(value: Any) -> dict[str, Any]:
    return {"source": value.source or "Online-Ausweis",
            "when": value.verified_at.isoformat() if value.verified_at else None}


def all_fields(form: Form) -> list[FormField]:
    return form.fields()


def recipient_of(form: Form, data: dict[str, Any]) -> Recipient | None:
    recipients = form.recipients
    if len(recipients) == 1:
        return recipients[0]
    return next((r for r in recipients if r.town == data.get("town")), None)


def open_draft(form: Form) -> tuple[auth.Login, FormDraft, dict[str, Any]] | BaseResponse:
    login = login_at(form)
    if isinstance(login, BaseResponse):
        return login
    draft = draft_of(login.account_id, form)
    if draft is None:  # sent already, or never begun: the start page explains
        return redirect(f"/{g.site_slug}/antrag/{form.id}/", code=303)
    return login, draft, draft_data(draft)


def step_url(form: Form, step_def: FormStep, part: int, back_to_summary: bool) -> str:
    query = ([f"teil={part}"] if part else []) + ([f"zurueck={SUMMARY}"] if back_to_summary else [])
    return f"/{g.site_slug}/antrag/{form.id}/{step_def.id}/" + ("?" + "&".join(query) if query else "")
