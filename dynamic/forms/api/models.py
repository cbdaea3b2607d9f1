"""The office API's request and response models, and the patterns and limits they share
with the handlers and the OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...platform.crypto import MAX_JWE_BYTES

REFERENCE = r"^A-[0-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$"
REFERENCE_ANY_CASE = r"^[Aa]-[0-9]{4}-[A-Za-z2-9]{4}-[A-Za-z2-9]{4}$"  # what the paths accept (ASCII only)
MAX_ATTACHMENT = 5 * 1024 * 1024


NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"  # text may break lines, but holds no control characters

LIST_PARAMETERS = ("status", "limit", "after", "since")
DEFAULT_LIMIT, MAX_LIMIT = 100, 500
MAX_ID = 2**31 - 1  # the largest id the databases' integer columns hold
CURSOR = r"^[A-Za-z0-9_-]{1,200}$"
# RFC 3339 date-time (section 5.6): a date, T, a time, a fraction of a second, Z or an offset.
RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
                     r"([Zz]|[+-][0-9]{2}:[0-9]{2})")
# 1 to 200 printable ASCII characters; no space at either end, since HTTP would not keep it.
IDEMPOTENCY_KEY = r"^[\x21-\x7e]([\x20-\x7e]{0,198}[\x21-\x7e])?$"
MAX_REQUEST_MB = 40
ATTACHMENT_ID = r"^[A-Za-z0-9_-]{16,64}$"
UNIT = r"^[a-z0-9]+(-[a-z0-9]+)*$"  # an office's id in the katalog
FORM_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)  # 0.0 is not false


class Attachment(Strict):
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^/\\\x00-\x1f]+$", description="Dateiname")
    content_type: Literal["application/pdf", "image/png", "image/jpeg"]
    data: str = Field(min_length=4, description="Inhalt der Datei, Base64-kodiert (höchstens 5 MB vor der Kodierung)")


class NewMessage(Strict):
    subject: str = Field(min_length=1, max_length=200, pattern=NO_CONTROL,
                         description="Betreff, den die Bürgerin oder der Bürger liest (ohne Leerzeichen am Rand)")
    body: str = Field(min_length=1, max_length=20000, pattern=NO_CONTROL,
                      description="Text der Nachricht, ohne HTML (ohne Leerzeichen am Rand)")
    decision: bool = Field(False, description="Die Nachricht ist ein Bescheid: der Betreff beginnt im Postfach mit "
                                              "»Bescheid:«")
    attachments: list[Attachment] = Field(default_factory=list, max_length=5)


class Rejection(Strict):
    reason: str = Field(min_length=1, max_length=5000, pattern=NO_CONTROL,
                        description="Begründung der Ablehnung, die die Bürgerin oder der Bürger im Postfach liest "
                                    "(ohne HTML, ohne Leerzeichen am Rand)")


class ForwardedFile(Strict):
    id: str = Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]{16,64}$",
                    description="Kennung des Anhangs (aus GET /api/v1/applications/{reference}/attachments)")
    jwe: str = Field(min_length=1, max_length=MAX_JWE_BYTES,
                     description="Der entschlüsselte Anhang, neu verschlüsselt für den Schlüssel der Zielstelle")


class ForwardedMessage(Strict):
    message: str = Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]{16,64}$",
                         description="Kennung der Antwort (message aus GET /api/v1/applications/{reference}/messages)")
    jwe: str = Field(min_length=1, max_length=MAX_JWE_BYTES,
                     description="Die entschlüsselte Antwort, neu verschlüsselt für den Schlüssel der Zielstelle")


class Forwarding(Strict):
    unit: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
                      description="Kennung der zuständigen Stelle derselben Kommune (im Kreis auch einer "
                                  "kreisangehörigen Gemeinde), wie in GET /api/v1/offices/{unit}/key")
    jwe: str = Field(min_length=1, max_length=MAX_JWE_BYTES,
                     description="Der entschlüsselte Antrag, neu verschlüsselt für den Schlüssel der Zielstelle "
                                 "(JWE compact, RSA-OAEP-256 mit A256GCM, kid des Zielschlüssels im Header)")
    attachments: list[ForwardedFile] = Field(
        default_factory=list, max_length=50,
        description="Jeder Anhang des Antrags, ebenso neu verschlüsselt für die Zielstelle (alle, keiner doppelt)")
    messages: list[ForwardedMessage] = Field(
        default_factory=list, max_length=500,
        description="Jede Antwort der Bürgerin oder des Bürgers zu diesem Antrag, ebenso neu verschlüsselt für die "
                    "Zielstelle (alle, keine doppelt); bei der Zielstelle gelten sie als neu")


class Forwarded(BaseModel):
    reference: str
    unit: str = Field(description="Die Stelle, bei der der Antrag jetzt liegt (Status new)")
    name: str


class OfficeKey(BaseModel):
    unit: str
    name: str
    key: dict[str, Any] = Field(description="Öffentlicher Schlüssel der Stelle (JWK, RSA)")


class ApplicationSummary(BaseModel):
    reference: str
    form: str
    submitted_at: dt.datetime
    status: Literal["new", "received", "rejected"]
    received_at: dt.datetime | None = None


class ApplicationDetail(ApplicationSummary):
    jwe: str = Field(description="Der Antrag als JWE (RSA-OAEP-256, A256GCM) für den Schlüssel der Stelle")


class ApplicationFile(BaseModel):
    id: str = Field(description="Kennung des Anhangs (zufällig, nicht fortlaufend)")
    name: str = Field(description="Dateiname; das PDF des ganzen Antrags heißt Antrag-<Vorgangsnummer>.pdf")
    content_type: str
    size: int = Field(description="Größe in Bytes (vor der Verschlüsselung)")
    sha512: str = Field(pattern="^[0-9a-f]{128}$",
                        description="SHA-512 des Inhalts (hexadezimal), zu prüfen nach dem Entschlüsseln; derselbe "
                                    "Wert steht im Antrag unter attachments")


class ApplicationFileList(BaseModel):
    attachments: list[ApplicationFile]


class ApplicationFileDetail(ApplicationFile):
    jwe: str = Field(description="Der Anhang als JWE (RSA-OAEP-256, A256GCM) für den Schlüssel der Stelle: ein "
                                 "JSON-Objekt mit id, reference, field, name, content_type, size, sha512 und dem "
                                 "Inhalt data (Base64)")


class ApplicationList(BaseModel):
    applications: list[ApplicationSummary]
    next: str | None = Field(description="Cursor der nächsten Seite für den Parameter after; null auf der letzten "
                                         "Seite")


class MessageOut(BaseModel):
    id: int
    message: str = Field(description="Kennung der Nachricht wie im Webhook nachricht (message) und in "
                                     "GET /api/v1/messages; ändert sich nie")
    direction: Literal["office", "citizen"]
    subject: str
    created_at: dt.datetime
    jwe: str | None = Field(None, description="Text der Antwort der Bürgerin oder des Bürgers, verschlüsselt")
    body: str | None = Field(None, description="Nachrichten der Stelle: der Text, wie er im Postfach steht; null bei "
                                               "Antworten und wenn die Bürgerin oder der Bürger die Nachricht "
                                               "gelöscht hat")
    attachments: list[str] = Field(default_factory=list,
                                   description="Nachrichten der Stelle: die Dateinamen der Anhänge")
    read_at: dt.datetime | None = Field(
        None, description="Nachrichten der Stelle: wann die Bürgerin oder der Bürger sie zum ersten Mal im Postfach "
                          "geöffnet hat (Nachweis des Abrufs, § 41 Abs. 2a VwVfG); null, solange ungeöffnet. Der "
                          "Zeitpunkt ändert sich danach nicht mehr, auch nicht beim Löschen der Nachricht.")


class Reply(BaseModel):
    id: int = Field(description="Kennung der Antwort, wie in GET /api/v1/applications/{reference}/messages")
    reference: str = Field(description="Vorgangsnummer; die Antwort selbst (verschlüsselt) mit "
                                       "GET /api/v1/applications/{reference}/messages")
    message: str = Field(description="Kennung der Antwort wie im Webhook nachricht (message)")
    subject: str
    created_at: dt.datetime
    fetched_at: dt.datetime | None = Field(description="Wann Ihre Stelle die Antwort abgerufen hat; null: neu")


class ReplyList(BaseModel):
    messages: list[Reply]
    next: str | None = Field(description="Cursor der nächsten Seite für den Parameter after; null auf der letzten "
                                         "Seite")


class MessageList(BaseModel):
    messages: list[MessageOut]


class Problem(BaseModel):
    error: str
    message: str
