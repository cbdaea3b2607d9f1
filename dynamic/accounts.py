"""The portal account: register, confirm, log in and out, reset and change."""

from __future__ import annotations

from flask import Blueprint

accounts = Blueprint("accounts", __name__, url_prefix="/konto")
