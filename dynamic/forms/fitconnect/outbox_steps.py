"""The outbox item of kind "fitconnect": delivering a prepared submission step by step, looking
for the destination's decision, and telling the citizen in the inbox."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...platform.crypto import Unreadable, unseal
from ...platform.db import session_scope
from ...platform.models import Application, FitConnectAttachment, FitConnectSubmission, Office, OutboxItem, utcnow
from ...platform.outbox import NotYet
from .channel import FIRST_LOOK, GIVE_UP, OUTBOX_KIND, POLL, Endpoints, Refused
from .client import Client, Decision

log = logging.getLogger("dynamic.forms.fitconnect")  # one logger for the whole channel (docs/betrieb, tests)


def outbox(app: Flask, item: OutboxItem) -> None:
    """Outbox kind "fitconnect": step "send" delivers a prepared submission, step "status"
    looks for the destination's decision. A failure is raised and retried by the outbox; the
    next attempt goes on from what is recorded."""
    client = Client(Endpoints.of(app.config["PORTAL"]))
    if item.payload.get("step") == "status":
        if item.payload.get("submission_url"):  # a routed destination's own delivery service
            client = client.at(str(item.payload["submission_url"]))
        look_for_decision(app, client, int(item.payload["submission"]))
    else:
        deliver(app, client, int(item.payload["submission"]), routing=item.payload.get("routing"))


def deliver(app: Flask, client: Client, row_id: int, routing: bool | None = None) -> None:
    """Send a prepared submission. `routing`: the destination comes from the Routing API (None:
    as the row says, for items queued before this was recorded). A routed destination is looked
    up and verified on every attempt, and everything goes to its delivery service; a pinned one
    is sent to FITCONNECT_SUBMISSION_URL."""
    with session_scope(app) as session:
        row = session.get(FitConnectSubmission, row_id)
        if row is None or row.submitted_at is not None:
            return
        application = session.get(Application, row.application_id)
        office = session.get(Office, application.office_id) if application is not None else None
        if application is None or office is None:
            return
        routed = row.destination_id is None if routing is None else bool(routing)
        destination, leika, schema_uri, kid = row.destination_id, row.leika, row.schema_uri, row.kid
        submission_id, public_jwk, region = row.submission_id, dict(office.public_jwk), row.region
        attachments = [(a.id, a.attachment_id, a.uploaded_at is not None) for a in session.scalars(
            select(FitConnectAttachment).where(FitConnectAttachment.submission_row == row.id)
            .order_by(FitConnectAttachment.id))]
        service_name = row.service_name
    if str(public_jwk.get("kid", "")) != kid:
        raise Refused(f"the office's key changed (kid {public_jwk.get('kid')}); this submission was encrypted for "
                      f"kid {kid}")
    submission_url, offered = None, None
    if routed:
        route = client.route(leika, region)
        if submission_id is not None and route.destination_id != destination:
            raise Refused(f"the route now names destination {route.destination_id}; submission {submission_id} "
                          f"was created at {destination}")
        client.check_parameters(route, schema_uri, public_jwk)
        destination, submission_url = route.destination_id, route.submission_url
        # With signed parameters only what they sign counts (missing: not offered); a route
        # without parameters leaves it to the destination document below.
        offered = (route.parameters.get("replyChannels") or {}) if route.parameters else None
        client = client.at(submission_url)
        with session_scope(app) as session:
            row = session.get(FitConnectSubmission, row_id)
            assert row is not None
            row.destination_id = destination
    assert destination is not None
    found = client.check_destination(destination, leika, schema_uri, public_jwk)
    if offered is None:
        offered = found.get("replyChannels")
    by_email = email_reply_offered(offered)
    if submission_id is None:
        submission_id, case_id = client.create_submission(destination, leika, service_name,
                                                          [a[1] for a in attachments])
        with session_scope(app) as session:
            row = session.get(FitConnectSubmission, row_id)
            assert row is not None
            row.submission_id, row.case_id = submission_id, case_id
        log.info("FIT-Connect submission %s created for row %s", submission_id, row_id)
    for attachment_row, attachment_id, uploaded in attachments:
        if uploaded:
            continue
        with session_scope(app) as session:
            token = session.get(FitConnectAttachment, attachment_row).jwe  # type: ignore[union-attr]
        client.upload(submission_id, attachment_id, token)
        with session_scope(app) as session:
            session.get(FitConnectAttachment, attachment_row).uploaded_at = utcnow()  # type: ignore[union-attr]
    with session_scope(app) as session:
        row = session.get(FitConnectSubmission, row_id)
        application = session.get(Application, row.application_id) if row is not None else None
        assert row is not None and application is not None
        with_reply = bool(by_email and row.metadata_with_reply_jwe)
        metadata = row.metadata_with_reply_jwe if with_reply and row.metadata_with_reply_jwe else row.metadata_jwe
        client.submit(submission_id, metadata, application.jwe)
        now = utcnow()
        row.submitted_at, row.status = now, "submitted"
        row.reply_channel = "eMail" if with_reply else None
        if row.metadata_with_reply_jwe is not None and not with_reply:
            log.info("FIT-Connect submission %s: the destination offers no e-mail reply channel without PGP; "
                     "sent without the citizen's reply channel", submission_id)
        row.metadata_with_reply_jwe = None  # sent or not chosen: the address is not kept twice
        for attachment in session.scalars(select(FitConnectAttachment)
                                          .where(FitConnectAttachment.submission_row == row.id)):
            attachment.jwe = ""  # sent: no second copy of the files is kept
        status: dict[str, Any] = {"submission": row.id, "step": "status"}
        if submission_url is not None:
            status["submission_url"] = submission_url
        session.add(OutboxItem(kind=OUTBOX_KIND, payload=status, not_before=now + FIRST_LOOK))
    log.info("FIT-Connect submission %s submitted", submission_id)


def email_reply_offered(reply_channels: Any) -> bool:
    """Whether a destination's replyChannels offer e-mail that we can use: offered, and not
    PGP only (the citizen has given us no PGP key)."""
    if not isinstance(reply_channels, dict):
        return False
    email = reply_channels.get("eMail")
    return isinstance(email, dict) and email.get("usePgp", False) is False


def look_for_decision(app: Flask, client: Client, row_id: int) -> None:
    with session_scope(app) as session:
        row = session.get(FitConnectSubmission, row_id)
        if row is None or row.status != "submitted" or not (row.submission_id and row.case_id and row.destination_id):
            return
        destination, submission_id, case_id = row.destination_id, row.submission_id, row.case_id
        submitted_at = row.submitted_at or utcnow()
    decision = client.decision(destination, submission_id, case_id)
    # A request context for the notice mail's template, as the reminders have.
    with app.test_request_context("/"), session_scope(app) as session:
        row = session.get(FitConnectSubmission, row_id)
        application = session.get(Application, row.application_id) if row is not None else None
        if row is None or application is None:
            return
        now = utcnow()
        if decision is None:
            if now - submitted_at > GIVE_UP:
                log.error("FIT-Connect submission %s: no decision after %s days; no longer asked",
                          submission_id, GIVE_UP.days)
                return
            raise NotYet(now + POLL)  # the same outbox item looks again
        row.status, row.decided_at = decision.status, now
        if decision.status == "accepted":
            if application.status == "new":
                application.status, application.received_at = "received", now
        else:
            application.status = "rejected"
        _tell_citizen(app, session, application, decision)


def _tell_citizen(app: Flask, session: Session, application: Application, decision: Decision) -> None:
    """The decision into the citizen's inbox (German), with the receipt's link."""
    from ...inbox.views import deliver_message

    if application.account_id is None:
        return
    try:
        copy = unseal(app.config["PORTAL"].secret_key, application.citizen_copy)
    except Unreadable:
        copy = {}
    office, title = str(copy.get("office") or "Die zuständige Stelle"), str(copy.get("title") or "Ihr Antrag")
    link = f"/{application.slug}/antrag/{application.form_id}/eingang/{application.reference}/"
    if decision.status == "accepted":
        subject = f"Antrag angenommen: {title}"
        body = (f"{office} hat Ihren Antrag »{title}« über FIT-Connect erhalten und angenommen.\n\n"
                f"Vorgangsnummer: {application.reference}\n\nDie Stelle meldet sich bei Ihnen, wenn sie "
                "weitere Angaben braucht oder entschieden hat.")
    else:
        reasons = "".join(f"\n- {problem}" for problem in decision.problems)
        subject = f"Antrag nicht angenommen: {title}"
        body = (f"{office} konnte Ihren Antrag »{title}« nicht annehmen."
                + (f"\n\nGründe:{reasons}" if reasons else "")
                + f"\n\nVorgangsnummer: {application.reference}\n\nBitte wenden Sie sich an die Stelle oder stellen "
                "Sie den Antrag erneut.")
    # deliver_message uses the request's session (db()): hand it ours for this context.
    from flask import g

    g.db = session
    try:
        message = deliver_message(application.account_id, application.slug, office, subject, body, link=link)
        message.application_id = application.id
    finally:
        g.pop("db", None)
