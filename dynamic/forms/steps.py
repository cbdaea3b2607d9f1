"""The form's first page (the town, a new or the kept draft) and one page per shown step,
each asking its questions part by part (without JavaScript) or all at once (with it)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from flask import abort, g, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from katalog.models import Form, FormField, FormStep

from ..platform import auth
from ..platform.db import db
from ..platform.models import FormDraft
from ..platform.render import BERLIN, page
from . import fields as F
from .delivery import office_of
from .drafts import (
    SUMMARY,
    Page,
    breadcrumbs,
    draft_data,
    draft_of,
    form_or_404,
    login_at,
    now,
    open_draft,
    prefilled,
    step_url,
    store,
)
from .sending import summary


def start(slug: str, form_id: str) -> Page:
    form = form_or_404(form_id)
    login = login_at(form)
    if isinstance(login, BaseResponse):
        return login
    draft = draft_of(login.account_id, form)
    data = draft_data(draft) if draft else {}
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
                data = prefilled(login.account_id, form)
            data["town"] = town if len(recipients) > 1 else None
            store(draft, data)
            db().commit()
            first = F.shown(form, data["raw"])[0][0]
            return redirect(f"/{slug}/antrag/{form_id}/{first.id}/", code=303)
    unavailable = None
    if len(recipients) == 1 and office_of(db(), slug, recipients[0].unit) is None:
        unavailable = recipients[0]
    return page("antrag/start.html", form.title, status=400 if errors else 200, errors=errors,
                crumbs=breadcrumbs(form), form=form, recipients=recipients, town=town, draft_exists=draft is not None,
                unavailable=unavailable, phone=g.katalog.municipality.phone)



def step(slug: str, form_id: str, step_id: str) -> Page:
    form = form_or_404(form_id)
    if step_id == SUMMARY:
        return summary(form)
    opened = open_draft(form)
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
        return redirect(step_url(form, current, 0, back_to_summary), code=303)
    # With JavaScript the page asks the questions of later parts too, revealed in place; the
    # script says so with "skript", and then the whole rest of the step is read and checked.
    errors: dict[str, str] = {}
    kept = auth.kept_form() if request.method == "GET" else None
    if kept:
        _take(form, current, data, _multidict(kept), None, _parts_sent(current, part, kept.get("skript", [])))
        store(draft, data)
        db().commit()
    if request.method == "POST":
        scripted = request.form.get("skript") == "ja"
        errors = _take(form, current, data, request.form, request.files,
                       _parts_sent(current, part, ["ja"] if scripted else []))
        store(draft, data)
        db().commit()  # kept also with errors: nothing typed is lost
        if not errors:
            following = None if scripted else F.later_part(current, data["raw"], part)
            if following is not None:  # without JavaScript: the question that now applies, on its own page
                return redirect(step_url(form, current, following, back_to_summary), code=303)
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
    previous = (step_url(form, current, 0, back_to_summary) if part else
                f"{base}{visible[position - 1][0].id}/" if position else base)
    return page("antrag/schritt.html", current.title, status=400 if errors else 200, errors=errors,
                crumbs=breadcrumbs(form, current.title), form=form, step=current, fields=fields,
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
