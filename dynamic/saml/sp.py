"""The portal as SAML 2.0 service provider of the state identity provider."""

from __future__ import annotations

from flask import Blueprint

saml = Blueprint("saml", __name__, url_prefix="/saml")
