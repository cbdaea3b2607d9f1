"""The office API under /api/v1/: an office fetches its applications (encrypted for it),
confirms receipt, reads the citizen's answers (encrypted too) and writes to the citizen's
inbox. Authenticated by the office's bearer token; an office sees only its own.
Described by the OpenAPI document at /api/v1/openapi.json, built from the same models
that check the requests.

The list comes in pages joined by an opaque cursor over (submitted_at, id), so nothing is
missed or doubled while applications arrive or are confirmed between pages. A message sent
with an `Idempotency-Key` is stored once per application and key (a unique constraint, so
also when retries race); a repeat gets the first answer. Refusals are German and name the
parameter or field.

This package holds the blueprint; its modules register on it, by concern: `errors` (the
German refusals), `offices` (the token, the office's applications, the other offices),
`applications` (list, fetch, receipt, attachments, a form's schema), `messages` (answers,
messages, idempotency), `decisions` (reject, forward) and `openapi` (the document);
`models` and `paging` serve them.
"""

from __future__ import annotations

from flask import Blueprint

from ...platform.security import csrf

api = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api)

# The modules register their handlers and routes on `api` when imported (so after it exists).
from . import applications, decisions, errors, messages, offices, openapi  # noqa: E402,F401
