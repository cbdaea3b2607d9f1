"""/healthz: is the app up and its database reachable (readiness, for load balancers and
monitoring); /healthz/live: is the process serving requests at all (liveness), without the
database, so that an orchestrator does not restart workers when only the database is down."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from werkzeug.wrappers import Response

from .db import engine, reachable

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> tuple[Response, int]:
    ok = reachable(engine(current_app))
    body = {"status": "ok" if ok else "error", "database": "ok" if ok else "unreachable"}
    return jsonify(body), 200 if ok else 503


@health.get("/healthz/live")
def live() -> Response:
    return jsonify({"status": "ok"})
