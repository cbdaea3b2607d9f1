"""The citizen's side of online applications under /<slug>/antrag/<form-id>/.

Start (login at the form's level, the town in a district) → one page per shown step →
summary → send → receipt. What the citizen types is saved in an encrypted draft after
every step, also when it has errors, so nothing is lost; the draft's token makes sending
idempotent (a double click or a repeated request stores one application).

The pages live by concern: drafts.py (what every page shares, the draft), steps.py (start and
the steps), sending.py (summary and sending), after_sending.py (receipt, PDF, starting again);
this module is the blueprint that serves them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request

from ..platform import auth, outbox
from ..platform.catalog import katalog_or_404
from ..platform.render import page
from .after_sending import receipt, receipt_file, restart, restart_link, restart_signature
from .limits import MB, PAGE_LIMIT, CuttingFormParser, step_limit
from .steps import start, step

__all__ = ["forms", "restart_link", "restart_signature"]

forms = Blueprint("forms", __name__, url_prefix="/<slug>/antrag")
forms.add_url_rule("/<form_id>/", view_func=start, methods=["GET", "POST"])
forms.add_url_rule("/<form_id>/<step_id>/", view_func=step, methods=["GET", "POST"])
forms.add_url_rule("/<form_id>/erneut/<reference>/", view_func=restart, methods=["GET"])
forms.add_url_rule("/<form_id>/eingang/<reference>/", view_func=receipt, methods=["GET"])
forms.add_url_rule("/<form_id>/eingang/<reference>/quittung.pdf", view_func=receipt_file, methods=["GET"])


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
