"""\"Meine Daten\": the citizen's stored data, prefill for forms, export and deletion."""

from __future__ import annotations

from flask import Blueprint

profile = Blueprint("profile", __name__, url_prefix="/konto")
