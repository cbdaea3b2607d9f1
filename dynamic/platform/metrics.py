"""Metrics of the dynamic tier in Prometheus text format at /metrics: requests per route
pattern and status with their latencies, and what the portal is for (bookings, applications).

Counters live in the process (or, under gunicorn with PROMETHEUS_MULTIPROC_DIR set, in files
that prometheus_client adds up over the workers). Appointments and applications by state are
read from the database at each scrape, so they agree whichever process answers; so are the
applications left "new" for days and the pushes to offices' webhooks that the outbox worker (a
process of its own) gave up on. Labels carry route patterns, municipality slugs and office
unit ids only, never paths, addresses or names.

/metrics answers requests with `Authorization: Bearer <METRICS_TOKEN>`, or, without a token
configured, only requests from the machine itself: the socket's peer is a loopback address
(never what X-Forwarded-For claims) and the request did not come through a proxy (a proxy on
this machine forwards strangers' requests).
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import os
import time
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, abort, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from . import config
from .db import db
from .models import Application, ApplicationMessage, Appointment, Office, OutboxItem, utcnow
from .outbox import MAX_ATTEMPTS

metrics = Blueprint("metrics", __name__)

REQUESTS = Counter("buergerportal_http_requests_total", "HTTP requests answered by the dynamic tier",
                   ["method", "route", "status"])
LATENCY = Histogram("buergerportal_http_request_duration_seconds", "Time to answer, per route pattern",
                    ["method", "route"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
BOOKED = Counter("buergerportal_appointments_booked_total", "Appointments booked", ["municipality"])
SUBMITTED = Counter("buergerportal_applications_submitted_total", "Applications sent to an office",
                    ["municipality", "form"])
OVERDUE_DAYS = 3  # the help text of buergerportal_applications_overdue says it, too


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_count)
    app.register_blueprint(metrics)


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _count(response: Response) -> Response:
    if request.endpoint == "metrics.scrape":
        return response
    route = request.url_rule.rule if request.url_rule is not None else "(none)"
    REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    LATENCY.labels(request.method, route).observe(time.perf_counter() - g.get("metrics_started", time.perf_counter()))
    return response


class _Database(Collector):
    """Appointments and applications by municipality and state, applications left new for days
    and pushes given up, counted at scrape time."""

    def collect(self) -> Iterator[Metric]:
        appointments = GaugeMetricFamily("buergerportal_appointments", "Appointments by municipality and state",
                                         labels=["municipality", "status"])
        for slug, status, count in db().execute(select(Appointment.slug, Appointment.status, func.count())
                                                .group_by(Appointment.slug, Appointment.status)):
            appointments.add_metric([slug, status], count)
        yield appointments
        applications = GaugeMetricFamily("buergerportal_applications", "Applications by municipality and state "
                                         "(new: not yet fetched by the office)", labels=["municipality", "status"])
        for slug, status, count in db().execute(select(Application.slug, Application.status, func.count())
                                                .group_by(Application.slug, Application.status)):
            applications.add_metric([slug, status], count)
        yield applications
        overdue = GaugeMetricFamily("buergerportal_applications_overdue", "Applications still new (not confirmed "
                                    "by the office) more than 3 days after they were sent, by municipality and "
                                    "receiving office unit", labels=["municipality", "unit"])
        for slug, unit, count in db().execute(
                select(Application.slug, Office.unit_id, func.count())
                .join(Office, Application.office_id == Office.id)
                .where(Application.status == "new",
                       Application.submitted_at < utcnow() - dt.timedelta(days=OVERDUE_DAYS))
                .group_by(Application.slug, Office.unit_id)):
            overdue.add_metric([slug, unit], count)
        yield overdue
        yield _webhooks_given_up()


def _webhooks_given_up() -> CounterMetricFamily:
    """Pushes the outbox gave up on: failed at its last attempt, left undone. Counted from the
    outbox table, since the worker that gives up is another process than the one scraped (and
    the rows stay, so the count only grows)."""
    given_up = CounterMetricFamily("buergerportal_webhooks_given_up_total", "Pushes to an office's webhook given "
                                   "up after the outbox's last attempt (the office must fetch by API)",
                                   labels=["municipality"])
    applications: list[int] = []
    messages: list[int] = []
    for payload in db().scalars(select(OutboxItem.payload).where(
            OutboxItem.kind == "webhook", OutboxItem.done_at.is_(None), OutboxItem.attempts >= MAX_ATTEMPTS)):
        if isinstance(payload, dict) and isinstance(payload.get("message"), int):
            messages.append(payload["message"])
        elif isinstance(payload, dict) and isinstance(payload.get("application"), int):
            applications.append(payload["application"])
    counts: dict[str, int] = {}
    if messages:
        for slug in db().scalars(select(Application.slug).join(
                ApplicationMessage, ApplicationMessage.application_id == Application.id)
                .where(ApplicationMessage.id.in_(messages))):
            counts[slug] = counts.get(slug, 0) + 1
    if applications:
        for slug in db().scalars(select(Application.slug).where(Application.id.in_(applications))):
            counts[slug] = counts.get(slug, 0) + 1
    for slug, count in sorted(counts.items()):
        given_up.add_metric([slug], count)
    return given_up


def _allowed() -> bool:
    token = config.settings().metrics_token
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)
    return _from_this_machine()


FORWARDING_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


def _from_this_machine() -> bool:
    """Did the request come straight from a process on this machine, not through a proxy?"""
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    # The socket's peer: ProxyFix (TRUSTED_PROXIES) keeps the original REMOTE_ADDR here.
    original = request.environ.get("werkzeug.proxy_fix.orig") or {}
    peer = original.get("REMOTE_ADDR") if "REMOTE_ADDR" in original else request.environ.get("REMOTE_ADDR")
    try:
        address = ipaddress.ip_address(peer or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


@metrics.get("/metrics")
def scrape() -> Response:
    if not _allowed():
        abort(404)  # not even its existence is told to the outside
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (REQUESTS, LATENCY, BOOKED, SUBMITTED):
            registry.register(collector)
    registry.register(_Database())
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST.split(";")[0],
                    headers={"Cache-Control": "no-store"})
