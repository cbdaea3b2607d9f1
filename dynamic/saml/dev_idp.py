"""A development identity provider (SAML 2.0) with test personas; never in production."""

from __future__ import annotations

from flask import Blueprint

dev_idp = Blueprint("dev_idp", __name__, url_prefix="/dev-idp")
