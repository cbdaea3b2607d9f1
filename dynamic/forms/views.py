"""The citizen's side of online applications under /<slug>/antrag/<form-id>/.

Start (login at the form's level, the town in a district) → one page per shown step →
summary → send → receipt. What the citizen types is saved in an encrypted draft after
every step, also when it has errors, so nothing is lost; the draft's token makes sending
idempotent (a double click or a repeated request stores one application).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, redirect, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as BaseResponse

from katalog.models import Form, FormField, FormStep, Recipient
from portal.grammar import forms_of, upper_first
from portal.levels import at_least

from ..accounts.profile import FIELD_NAMES, prefill, save_back
from ..inbox.views import deliver_message
from ..platform import auth, config, outbox
from ..platform.catalog import grammar_of, katalog_or_404
from ..platform.crypto import Unreadable, seal, unseal
from ..platform.db import db
from ..platform.metrics import SUBMITTED
from ..platform.models import Account, Application, FormDraft, Office, utcnow
from ..platform.render import BERLIN, page
from . import fields as F
from .delivery import NoOffice, forget_draft, office_of, send
from .limits import MB, PAGE_LIMIT, CuttingFormParser, step_limit
from .receipt import receipt_pdf

forms = Blueprint("forms", __name__, url_prefix="/<slug>/antrag")
Page = tuple[str, int] | BaseResponse
SUMMARY = "zusammenfassung"
ADDRESS_PROFILE = {"strasse": "street", "plz": "postal_code", "ort": "city"}


@forms.record_once
def _jobs(state: Any) -> None:
    """Answers kept across a login (auth.ask_to_log_in) that nobody came back for are deleted."""
    outbox.add_periodic_job(state.app, auth.forget_kept_forms)


@forms.url_value_preprocessor
def _municipality(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    values = values or {}
    slug = values.get("slug", "")
    g.katalog = katalog_or_404(slug)
    g.site_slug = slug
    # Each page reads only what it can take: a step as much as its files allow, other pages little;
    # longer text values are cut while reading (see limits.py).
    found = g.katalog.forms.get(values.get("form_id"))
    step_def = next((s for s in found.steps if s.id == values.get("step_id")), None) if found else None
    request.max_content_length = step_limit(step_def) if step_def is not None else PAGE_LIMIT
    request.form_data_parser_class = CuttingFormParser
    g.step_takes_files = step_def is not None and any(f.type == "file" for f in step_def.fields)


@forms.errorhandler(413)
def _too_large(_error: Exception) -> tuple[str, int]:
    limit = request.max_content_length or PAGE_LIMIT
    if g.get("step_takes_files"):
        message = (f"Die Datei ist zu groß: Sie können höchstens {limit // MB - 1} MB auf einmal hochladen. "
                   "Gehen Sie im Browser zurück und wählen Sie eine kleinere Datei. Was Sie vorher gespeichert "
                   "haben, ist noch da.")
        title = "Datei zu groß"
    else:
        message = ("Was Sie gesendet haben, ist zu lang für diese Seite. Gehen Sie im Browser zurück und kürzen "
                   "Sie Ihre Angaben. Was Sie vorher gespeichert haben, ist noch da.")
        title = "Angaben zu lang"
    return page("konto/hinweis.html", title, status=413, message=message, link=(request.path, "Zurück zum Formular"))


def now() -> dt.datetime:
    return config.now()


def _form(form_id: str) -> Form:
    found: Form | None = g.katalog.forms.get(form_id)
    if found is None:
        abort(404)
    return found


def _login_at(form: Form) -> auth.Login | BaseResponse:
    """The login, or the way to a login at the form's level (what a POST sent is kept)."""
    login = auth.current_login()
    needed = form.trust_level
    if login is None or not at_least(login.level, needed):
        return auth.ask_to_log_in(needed, request.full_path.rstrip("?"), code=303)
    return login


def _crumbs(form: Form, title: str | None = None) -> list[tuple[str, str]]:
    slug = g.site_slug
    service = g.katalog.services.get(form.service)
    crumbs = [("Startseite", f"/{slug}/"),
              (service.name if service is not None else form.title, f"/{slug}/leistungen/{form.service}/"),
              ("Antrag", f"/{slug}/antrag/{form.id}/")]
    if title:
        crumbs.append((title, request.path))
    return crumbs


# ---------------------------------------------------------------- drafts


def _draft(account_id: int, form: Form) -> FormDraft | None:
    return db().scalar(select(FormDraft).where(FormDraft.account_id == account_id, FormDraft.slug == g.site_slug,
                                               FormDraft.form_id == form.id))


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _data(draft: FormDraft) -> dict[str, Any]:
    try:
        data = unseal(_secret(), draft.data)
    except Unreadable:  # SECRET_KEY was changed: the draft cannot be read, the form starts empty
        data = {}
    data.setdefault("raw", {})
    data.setdefault("uploads", {})
    data.setdefault("verified", {})
    return data


def _store(draft: FormDraft, data: dict[str, Any]) -> None:
    draft.data = seal(_secret(), data)
    draft.updated_at = utcnow()


def _prefilled(account_id: int, form: Form) -> dict[str, Any]:
    """A new draft's answers from the citizen's stored data; values from the eID are marked."""
    mapping: dict[str, str] = {}
    for field in _all_fields(form):
        source = field.prefill
        if source == "address":
            for part, profile_field in ADDRESS_PROFILE.items():
                mapping[f"{field.id}\x00{part}"] = profile_field
        elif source:
            mapping[field.id] = source
    found = prefill(account_id, mapping)
    raw: dict[str, Any] = {}
    verified: dict[str, Any] = {}
    for field in _all_fields(form):
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


def _all_fields(form: Form) -> list[FormField]:
    return form.fields()


def _recipient(form: Form, data: dict[str, Any]) -> Recipient | None:
    recipients = form.recipients
    if len(recipients) == 1:
        return recipients[0]
    return next((r for r in recipients if r.town == data.get("town")), None)


# ---------------------------------------------------------------- start


@forms.route("/<form_id>/", methods=["GET", "POST"])
def start(slug: str, form_id: str) -> Page:
    form = _form(form_id)
    login = _login_at(form)
    if isinstance(login, BaseResponse):
        return login
    draft = _draft(login.account_id, form)
    data = _data(draft) if draft else {}
    errors: dict[str, str] = {}
    recipients = form.recipients
    town = request.form.get("gemeinde") or data.get("town")
    if request.method == "POST":
        chosen = next((r for r in recipients if len(recipients) == 1 or r.town == town), None)
        if chosen is None:
            errors["gemeinde"] = "Wählen Sie Ihre Stadt oder Gemeinde aus."
        elif office_of(db(), slug, chosen.unit) is None:  # said before anything is typed, not at the end
            errors["gemeinde"] = (f"{chosen.name} ({chosen.town_name or g.katalog.municipality.name}) "
                                  "kann diesen Antrag zurzeit noch nicht online empfangen. Bitte wenden Sie sich "
                                  "direkt an die Stelle.")
        else:
            if draft is None or request.form.get("aktion") == "neu":
                if draft is None:
                    draft = FormDraft(account_id=login.account_id, slug=slug, form_id=form_id,
                                      token=secrets.token_urlsafe(24), data="")
                    db().add(draft)
                else:
                    draft.token = secrets.token_urlsafe(24)
                data = _prefilled(login.account_id, form)
            data["town"] = town if len(recipients) > 1 else None
            _store(draft, data)
            db().commit()
            first = F.shown(form, data["raw"])[0][0]
            return redirect(f"/{slug}/antrag/{form_id}/{first.id}/", code=303)
    unavailable = None
    if len(recipients) == 1 and office_of(db(), slug, recipients[0].unit) is None:
        unavailable = recipients[0]
    return page("antrag/start.html", form.title, status=400 if errors else 200, errors=errors,
                crumbs=_crumbs(form), form=form, recipients=recipients, town=town, draft_exists=draft is not None,
                unavailable=unavailable, phone=g.katalog.municipality.phone)


def _open_draft(form: Form) -> tuple[auth.Login, FormDraft, dict[str, Any]] | BaseResponse:
    login = _login_at(form)
    if isinstance(login, BaseResponse):
        return login
    draft = _draft(login.account_id, form)
    if draft is None:  # sent already, or never begun: the start page explains
        return redirect(f"/{g.site_slug}/antrag/{form.id}/", code=303)
    return login, draft, _data(draft)


# ---------------------------------------------------------------- steps


@forms.route("/<form_id>/<step_id>/", methods=["GET", "POST"])
def step(slug: str, form_id: str, step_id: str) -> Page:
    form = _form(form_id)
    if step_id == SUMMARY:
        return summary(form)
    opened = _open_draft(form)
    if isinstance(opened, BaseResponse):
        return opened
    login, draft, data = opened
    visible = F.shown(form, data["raw"])
    position = next((i for i, (s, _f) in enumerate(visible) if s.id == step_id), None)
    if position is None:
        if any(s.id == step_id for s in form.steps):  # not needed for the answers given
            return redirect(f"/{slug}/antrag/{form_id}/{visible[0][0].id}/", code=303)
        abort(404)
    current = visible[position][0]
    back_to_summary = request.args.get("zurueck") == SUMMARY
    part = _part(current)
    if part and not F.part_fields(current, data["raw"], part):  # that question is not needed (any more)
        return redirect(_step_url(form, current, 0, back_to_summary), code=303)
    # With JavaScript the page asks the questions of later parts too, revealed in place; the
    # script says so with "skript", and then the whole rest of the step is read and checked.
    errors: dict[str, str] = {}
    kept = auth.kept_form() if request.method == "GET" else None
    if kept:
        _take(form, current, data, _multidict(kept), None, _parts_sent(current, part, kept.get("skript", [])))
        _store(draft, data)
        db().commit()
    if request.method == "POST":
        scripted = request.form.get("skript") == "ja"
        errors = _take(form, current, data, request.form, request.files,
                       _parts_sent(current, part, ["ja"] if scripted else []))
        _store(draft, data)
        db().commit()  # kept also with errors: nothing typed is lost
        if not errors:
            following = None if scripted else F.later_part(current, data["raw"], part)
            if following is not None:  # without JavaScript: the question that now applies, on its own page
                return redirect(_step_url(form, current, following, back_to_summary), code=303)
            visible = F.shown(form, data["raw"])
            after = [s for s, _f in visible[[s.id for s, _f in visible].index(step_id) + 1:]]
            target = SUMMARY if back_to_summary or not after else after[0].id
            return redirect(f"/{slug}/antrag/{form_id}/{target}/", code=303)
    # The questions of this part, and (hidden, for the script to reveal) those of later parts.
    depth = F.depths(current)
    asked = F.part_fields(current, data["raw"], part)
    fields = [_dressed(f, depth[f.id] > part) for f in current.fields
              if f in asked or depth[f.id] > part]
    base = f"/{slug}/antrag/{form_id}/"
    previous = (_step_url(form, current, 0, back_to_summary) if part else
                f"{base}{visible[position - 1][0].id}/" if position else base)
    return page("antrag/schritt.html", current.title, status=400 if errors else 200, errors=errors,
                crumbs=_crumbs(form, current.title), form=form, step=current, fields=fields,
                raw=data["raw"], proofs=_proofs(data), uploads=_uploads(data), number=position + 1,
                total=len(visible) + 1, previous=previous, back_to_summary=back_to_summary, kept=bool(kept),
                part=part, follow_up=part > 0)


def _part(step_def: FormStep) -> int:
    """The part of a step asked on this page (?teil=, see fields.depths); 0 for anything else."""
    wanted = request.args.get("teil", "")
    deepest = max(F.depths(step_def).values())
    # Only ASCII digits: str.isdigit() also takes "²", which int() refuses.
    return int(wanted) if re.fullmatch(r"[0-9]{1,2}", wanted) and int(wanted) <= deepest else 0


def _parts_sent(step_def: FormStep, part: int, script: list[str]) -> range:
    """The parts of a step a POST answers: its own, and with the script all later ones too."""
    return range(part, max(F.depths(step_def).values()) + 1) if "ja" in script else range(part, part + 1)


def _step_url(form: Form, step_def: FormStep, part: int, back_to_summary: bool) -> str:
    query = ([f"teil={part}"] if part else []) + ([f"zurueck={SUMMARY}"] if back_to_summary else [])
    return f"/{g.site_slug}/antrag/{form.id}/{step_def.id}/" + ("?" + "&".join(query) if query else "")


def _multidict(kept: dict[str, list[str]]) -> Any:
    from werkzeug.datastructures import MultiDict

    return MultiDict([(key, value) for key, values in kept.items() for value in values])


def _take(form: Form, current: FormStep, data: dict[str, Any], sent: Any,
          files: Any, parts: range) -> dict[str, str]:
    """Store what a step's POST sent for the parts it answers (never over a verified value),
    forget answers that the new answers hide, and check the shown fields of those parts."""
    verified = data["verified"]
    depth = F.depths(current)
    for field in current.fields:
        name = field.id
        if name in verified or depth[name] not in parts:
            continue
        if field.type == "file":
            if files is None:
                continue
            upload, error = F.read_upload(field, files)
            if upload is not None:
                data["uploads"][name] = upload.as_dict()
            elif error:
                data.setdefault("upload_errors", {})[name] = error
                continue
            elif sent.get(f"{name}-entfernen"):
                data["uploads"].pop(name, None)
            data.get("upload_errors", {}).pop(name, None)
            continue
        data["raw"][name] = F.read_sent(field, sent)
    F.prune(form, data["raw"], data["uploads"], verified)
    today = now().astimezone(BERLIN).date()
    errors = {}
    for field in F.step_fields(current, data["raw"]):
        name = field.id
        if depth[name] not in parts:
            continue
        if name in data.get("upload_errors", {}):
            errors[name] = data["upload_errors"].pop(name)
            continue
        upload = F.Upload.from_dict(data["uploads"][name]) if name in data["uploads"] else None
        _value, error = F.check(field, data["raw"].get(name), upload, today)
        if error:
            errors[name] = error
    return errors


def _proofs(data: dict[str, Any]) -> dict[str, Any]:
    proofs = {}
    for name, proof in data["verified"].items():
        value = data["raw"].get(name)
        if isinstance(value, dict) and "tag" in value:
            text = f"{int(value['tag']):02d}.{int(value['monat']):02d}.{value['jahr']}"
        elif isinstance(value, dict):
            text = f"{value.get('strasse', '')}, {value.get('plz', '')} {value.get('ort', '')}"
        else:
            text = str(value)
        when = dt.datetime.fromisoformat(proof["when"]) if proof.get("when") else None
        proofs[name] = {"text": text, "source": proof["source"], "when": when}
    return proofs


def _uploads(data: dict[str, Any]) -> dict[str, Any]:
    return {name: {"name": stored["name"], "size_text": F.size_text(int(stored["size"]))}
            for name, stored in data["uploads"].items()}


@dataclass(frozen=True)
class Dressed:
    """A field with what its template needs beyond the definition: for a question the script
    reveals in place, the answer it waits for (data-wenn-feld / data-wenn-werte); for a file,
    the kinds and size it takes. Everything else is the field's own."""

    field: FormField
    reveal_on: str | None = None
    reveal_values: str | None = None
    accept_types: str | None = None
    accept_text: str | None = None
    size_text: str | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.field, name)


def _dressed(field: FormField, revealed: bool) -> Dressed:
    condition = field.when if revealed else None
    reveal = ({"reveal_on": condition.field, "reveal_values": " ".join(F.condition_values(condition))}
              if condition is not None else {})
    if field.type != "file":
        return Dressed(field, **reveal)
    accept = field.accept or list(F.CONTENT_TYPES)
    return Dressed(field, **reveal, accept_types=",".join(F.CONTENT_TYPES[k] for k in accept),
                   accept_text="Erlaubt: " + ", ".join(F.KIND_NAMES[k] for k in accept),
                   size_text=f"{F.number_text(field.max_size_mb)} MB")


# ---------------------------------------------------------------- summary and sending


def summary(form: Form) -> Page:
    sent = _already_sent(form)
    if sent is not None:
        return sent
    opened = _open_draft(form)
    if isinstance(opened, BaseResponse):
        return opened
    login, draft, data = opened
    slug = g.site_slug
    uploads = {name: F.Upload.from_dict(value) for name, value in data["uploads"].items()}
    today = now().astimezone(BERLIN).date()
    clean, problems, problem_steps = F.check_all(form, data["raw"], uploads, today)
    recipient = _recipient(form, data)
    if recipient is None:
        return redirect(f"/{slug}/antrag/{form.id}/", code=303)
    errors: dict[str, str] = dict(problems)
    if request.method == "POST" and not problems:
        if request.form.get("erklaerung") != "ja":
            errors["erklaerung"] = "Bestätigen Sie, dass Ihre Angaben richtig und vollständig sind."
        elif request.form.get("token") != draft.token:
            return redirect(request.path, code=303)  # an old page: show the current answers again
        else:
            return _send(form, login, draft, data, clean, recipient)
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
    links = {name: _step_url(form, step_defs[problem_steps[name]], F.depths(step_defs[problem_steps[name]])[name],
                             True) + f"#feld-{name}" for name in problems}
    return page("antrag/zusammenfassung.html", f"{form.title}: Angaben prüfen",
                status=400 if errors and request.method == "POST" else 200, errors=errors,
                crumbs=_crumbs(form, "Angaben prüfen"), form=form, sections=sections, problems=problems,
                problem_links=links, recipient=recipient, token=draft.token, base=f"/{slug}/antrag/{form.id}/",
                can_save_back=any(f.prefill for f in _all_fields(form)),
                mandate=_mandate(form, recipient, clean))


def _mandate(form: Form, recipient: Recipient, clean: dict[str, Any]) -> dict[str, Any] | None:
    """The SEPA direct-debit mandate the citizen grants with these answers, naming its creditor:
    the municipality's (in a district the town's) from the knowledge base; without one there,
    the municipality or town by name, its creditor identifier left to the notice."""
    mandate = form.sepa_mandate
    if mandate is None or not F.condition_met(mandate.when, F.raw_like(clean)):
        return None
    creditor = recipient.sepa_creditor
    fields = {f.id: f for f in _all_fields(form)}
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
          recipient: Recipient) -> BaseResponse:
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
                                now=current, secret_key=_secret())
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
    for field in _all_fields(form):
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


# ---------------------------------------------------------------- again, after a rejection


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


@forms.get("/<form_id>/erneut/<reference>/")
def restart(slug: str, form_id: str, reference: str) -> Page:
    """Start the form again with the answers of a rejected application (from the citizen's
    copy), so the citizen corrects them and sends anew; files are uploaded again. Values
    confirmed by the eID come fresh from the stored data, as for a new draft."""
    form = _form(form_id)
    login = _login_at(form)
    if isinstance(login, BaseResponse):
        return login
    application = db().scalar(select(Application).where(Application.reference == reference,
                                                        Application.slug == slug, Application.form_id == form_id))
    expected = restart_signature(_secret(), login.account_id, reference)
    if (application is None or application.account_id != login.account_id or application.status != "rejected"
            or not hmac.compare_digest(request.args.get("s", ""), expected)):
        abort(404)
    try:
        copy = unseal(_secret(), application.citizen_copy)
    except Unreadable:
        copy = {"answers": []}
    data = _prefilled(login.account_id, form)
    fields = {field.id: field for field in _all_fields(form)}
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
    draft = _draft(login.account_id, form)
    if draft is None:
        draft = FormDraft(account_id=login.account_id, slug=slug, form_id=form_id, data="")
        db().add(draft)
    draft.token = secrets.token_urlsafe(24)  # a new application, not a repeat of the rejected one
    _store(draft, data)
    db().commit()
    first = F.shown(form, data["raw"])[0][0]
    return redirect(f"/{slug}/antrag/{form_id}/{first.id}/", code=303)


# ---------------------------------------------------------------- receipt


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
        copy = unseal(_secret(), application.citizen_copy)
    except Unreadable:  # SECRET_KEY was changed: the receipt shows what is not encrypted
        copy = {"reference": application.reference, "answers": [], "files": [], "title": form.title,
                "office": "Die zuständige Stelle"}
    return application, copy


@forms.get("/<form_id>/eingang/<reference>/")
def receipt(slug: str, form_id: str, reference: str) -> Page:
    found = _receipt_of(form_id, reference)
    if isinstance(found, BaseResponse):
        return found
    form, application, copy = found
    account = db().get(Account, application.account_id) if application.account_id is not None else None
    return page("antrag/eingang.html", "Antrag eingegangen", crumbs=_crumbs(form, "Eingangsbestätigung"),
                application=application, copy=copy, after_sending=form.after_sending,
                duration=_usual_duration(form), notified_at=_notified_address(account))


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


@forms.get("/<form_id>/eingang/<reference>/quittung.pdf")
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
    form = _form(form_id)
    found = _own_application(form, reference)
    if isinstance(found, BaseResponse):
        return found
    return form, *found
