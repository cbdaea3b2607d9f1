"""The office closes or passes on a case: it rejects the application (the citizen may send
it again corrected) or forwards it, re-encrypted, to the responsible office of the same
municipality.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify
from sqlalchemy import select

from portal.grammar import upper_first

from ...inbox.views import deliver_message
from ...platform.crypto import Unreadable, header_of, seal, unseal
from ...platform.db import db
from ...platform.models import (
    Application,
    ApplicationAttachment,
    ApplicationMessage,
    FitConnectSubmission,
    utcnow,
)
from ..delivery import kid_of
from . import api
from .applications import still_open, summary
from .errors import ApiError, validated
from .models import Forwarded, ForwardedMessage, Forwarding, Rejection
from .offices import colleague, form_title, mine, office_forms, office_name


def _jwe_header(token: str) -> dict[str, Any] | None:
    """The protected header of a compact JWE as the portal writes them, or None."""
    try:
        header = header_of(token)
    except Unreadable:
        return None
    if token.count(".") != 4 or header.get("alg") != "RSA-OAEP-256" or header.get("enc") != "A256GCM":
        return None
    return header


def _for_key(token: str, kid: str) -> bool:
    header = _jwe_header(token)
    return header is not None and header.get("kid") == kid


@api.post("/applications/<reference>/forward")
def forward(reference: str) -> Response:
    """A misrouted application goes to the responsible office of the same municipality: the
    office decrypted it and sends it re-encrypted for the target's key. It is "new" there,
    gone here; the citizen learns where it is now."""
    from ...platform.catalog import katalog
    from ...platform.models import OutboxItem
    from ...platform.outbox import queue_mail

    found = mine(reference)
    sent = validated(Forwarding, "unit, jwe, attachments und messages")
    still_open(found)
    target = colleague(sent.unit)
    if target is None:
        raise ApiError(422, "invalid", "unit: Diese Stelle gibt es in Ihrer Kommune nicht, oder sie empfängt keine "
                                       "Anträge online.")
    if target.id == found.office_id:
        raise ApiError(422, "invalid", "unit: Der Antrag liegt bereits bei dieser Stelle.")
    kid = kid_of(target.public_jwk)
    header = _jwe_header(sent.jwe)
    if header is None:
        raise ApiError(422, "invalid", "jwe: Erwartet wird ein JWE in kompakter Form (RSA-OAEP-256 mit A256GCM).")
    if header.get("kid") != kid:
        raise ApiError(422, "invalid", f"jwe: Der Antrag ist nicht für den Schlüssel der Zielstelle verschlüsselt "
                                       f"(erwartet kid {kid}); holen Sie ihn mit GET /api/v1/offices/{target.unit_id}"
                                       "/key.")
    files = {row.public_id: row for row in db().scalars(
        select(ApplicationAttachment).where(ApplicationAttachment.application_id == found.id))}
    given = [file.id for file in sent.attachments]
    if sorted(given) != sorted(files):
        raise ApiError(422, "invalid", "attachments: Senden Sie jeden Anhang des Antrags genau einmal mit, neu "
                                       "verschlüsselt für die Zielstelle; erwartet: "
                                       f"{', '.join(sorted(files)) or 'keiner'}.")
    for number, file in enumerate(sent.attachments):
        if not _for_key(file.jwe, kid):
            raise ApiError(422, "invalid", f"attachments.{number}.jwe: Der Anhang ist nicht für den Schlüssel der "
                                           f"Zielstelle verschlüsselt (erwartet kid {kid}).")
        files[file.id].jwe = file.jwe
    _forward_replies(found, sent.messages, kid)
    old_name, new_name = office_name(g.office), office_name(target)
    old_named, new_named = office_forms(g.office), office_forms(target)
    secret_key = str(current_app.config["SECRET_KEY"])
    try:
        copy = unseal(secret_key, found.citizen_copy)
        found.citizen_copy = seal(secret_key, {**copy, "office": new_name})  # the receipt names the new office
    except Unreadable:
        pass
    found.office_id, found.jwe, found.status, found.received_at = target.id, sent.jwe, "new", None
    for prepared in db().scalars(select(FitConnectSubmission).where(FitConnectSubmission.application_id == found.id)):
        # The citizen let the first office answer by e-mail, not this one: the address goes.
        prepared.metadata_with_reply_jwe, prepared.reply_channel = None, None
    katalog_found = katalog(found.slug)
    title = form_title(katalog_found, found.form_id)
    if found.account_id is not None:
        message = deliver_message(
            found.account_id, found.slug, old_name, f"Ihr Antrag wurde weitergeleitet: {title}"[:200],
            f"Für Ihren Antrag »{title}« ist nicht {old_named.nominative} zuständig, sondern "
            f"{new_named.nominative}. Wir haben ihn deshalb {new_named.to} weitergeleitet; Sie müssen nichts weiter "
            f"tun.\n\nVorgangsnummer: {found.reference} (bleibt gleich)\n\n{upper_first(new_named.nominative)} "
            "meldet sich bei Ihnen hier im Postfach.")
        message.application_id = found.id
    db().flush()
    if target.webhook_url:
        db().add(OutboxItem(kind="webhook", payload={"application": found.id, "event": "antrag"}))
    unit = katalog_found.units.get(target.unit_id) if katalog_found else None
    if unit is not None and unit.email:
        queue_mail(unit.email, "antrag-fuer-amt", None, reference=found.reference, title=title)
    db().commit()
    return jsonify(Forwarded(reference=found.reference, unit=target.unit_id, name=new_name).model_dump(mode="json"))


def _forward_replies(found: Application, given: list[ForwardedMessage], kid: str) -> None:
    """The citizen's answers so far, re-encrypted by the old office for the target: every one,
    or the target could not read what the citizen already told. New for the target."""
    from ..delivery import event_id

    secret_key = str(current_app.config["SECRET_KEY"])
    replies = {event_id(secret_key, "message", note.id): note for note in db().scalars(
        select(ApplicationMessage).where(ApplicationMessage.application_id == found.id,
                                         ApplicationMessage.direction == "citizen",
                                         ApplicationMessage.jwe.is_not(None)))}
    if sorted(m.message for m in given) != sorted(replies):
        raise ApiError(422, "invalid", "messages: Senden Sie jede Antwort der Bürgerin oder des Bürgers genau einmal "
                                       "mit, neu verschlüsselt für die Zielstelle; erwartet: "
                                       f"{', '.join(sorted(replies)) or 'keine'}.")
    for number, reply in enumerate(given):
        if not _for_key(reply.jwe, kid):
            raise ApiError(422, "invalid", f"messages.{number}.jwe: Die Antwort ist nicht für den Schlüssel der "
                                           f"Zielstelle verschlüsselt (erwartet kid {kid}).")
    for reply in given:
        replies[reply.message].jwe, replies[reply.message].fetched_at = reply.jwe, None


@api.post("/applications/<reference>/reject")
def reject(reference: str) -> Response:
    """The office refuses the application: closed as "rejected"; the citizen reads the reason
    in the inbox, with a link that opens the form again with their answers (files are
    uploaded again)."""
    from ...platform.catalog import katalog
    from ..views import restart_link

    found = mine(reference)
    sent = validated(Rejection, "reason")
    still_open(found)
    if found.account_id is None:
        raise ApiError(409, "gone", "Die Antragstellerin oder der Antragsteller hat das Konto gelöscht.")
    known = katalog(found.slug)
    form = known.forms.get(found.form_id) if known else None
    title = form_title(known, found.form_id)
    subject = f"Ablehnung Ihres Antrags: {title}"[:200]
    again = (" Über »Antrag korrigieren und erneut senden« öffnen Sie das Formular mit Ihren bisherigen Angaben, "
             "können sie korrigieren und den Antrag erneut senden. Hochgeladene Dateien werden nicht übernommen: "
             "Bitte laden Sie sie erneut hoch." if form is not None else "")
    body = (f"Ihr Antrag »{title}« wurde abgelehnt.\n\nBegründung:\n{sent.reason}\n\n"
            f"Vorgangsnummer: {found.reference}" + (f"\n\n{again.strip()}" if again else ""))
    secret_key = str(current_app.config["SECRET_KEY"])
    message = deliver_message(found.account_id, found.slug, office_name(g.office), subject, body,
                              link=restart_link(secret_key, found) if form is not None else None)
    message.application_id = found.id
    db().flush()
    db().add(ApplicationMessage(application_id=found.id, direction="office", subject=subject, message_id=message.id))
    now = utcnow()
    found.status = "rejected"
    found.received_at = found.received_at or now
    db().commit()
    return jsonify(summary(found))
