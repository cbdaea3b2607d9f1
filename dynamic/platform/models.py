"""The dynamic tier's tables (SQLAlchemy 2). Schema changes go through Alembic migrations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def rfc3339(moment: dt.datetime) -> str:
    """The one timestamp format of what offices receive (payloads, webhooks, the API): RFC 3339 in
    UTC with "Z", as pydantic writes the API's answers."""
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stored as naive UTC (SQLite has no time zones), always returned as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Account(Base):
    """One portal account for every municipality; reached by password, by the state login, or both."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    email_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # The state IdP's stable pseudonym (bPK2): accounts are linked by it, never by name or e-mail.
    bpk2: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    profile: Mapped[list[ProfileValue]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class LoginSession(Base):
    """A logged-in browser. The cookie holds a random token; the table holds only its hash."""

    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(20))
    means: Mapped[str] = mapped_column(String(40))
    # The login the session falls back to when a higher level's time is over (step-up).
    fallback_level: Mapped[str | None] = mapped_column(String(20))
    fallback_means: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    level_since: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmailToken(Base):
    """A one-time link sent by mail: confirm an address, reset a password, change the address."""

    __tablename__ = "email_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    new_email: Mapped[str | None] = mapped_column(String(254))
    # Registration: the page the citizen was on when they registered (checked, see
    # auth.safe_target); kept here, never in the mailed link, where it could be changed.
    return_to: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ProfileValue(Base):
    """One field of "Meine Daten". Verified values came from the eID and are not edited by hand."""

    __tablename__ = "profile_values"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    field: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(String(80))
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SamlRequest(Base):
    """An AuthnRequest we sent and still expect an answer to (InResponseTo)."""

    __tablename__ = "saml_requests"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    level: Mapped[str] = mapped_column(String(20))
    return_to: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The verified answer, kept until the browser that asked picks it up (then deleted).
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SeenAssertion(Base):
    """Assertion IDs already accepted, kept until they expire, so a replay is refused."""

    __tablename__ = "seen_assertions"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class OutboxItem(Base):
    """Work that may fail or wait (mail, later deliveries), done by the worker, at most once."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)


# ---------------------------------------------------------------- appointments


class Appointment(Base):
    """A booked (or held) appointment at a location. Its time lives in `slot_claims`."""

    __tablename__ = "appointments"
    # The target of the claims' foreign key: a claim names its appointment's place (municipality,
    # location, counter), so the database refuses a claim that disagrees with its appointment.
    __table_args__ = (UniqueConstraint("id", "slug", "location_id", "counter", name="uq_appointments_place"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), index=True)
    location_id: Mapped[str] = mapped_column(String(100))
    service_id: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    counter: Mapped[int] = mapped_column(Integer)
    persons: Mapped[int] = mapped_column(Integer, default=1)
    # held → booked → arrived → done | no_show; held or booked → cancelled
    status: Mapped[str] = mapped_column(String(20), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    email: Mapped[str | None] = mapped_column(String(254))  # bookings without an account only
    held_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    booked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    marked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Confirmation mails sent for a hold without an account (bounded, see booking.MAILS_PER_HOLD).
    confirmation_mails: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The calendar file's SEQUENCE (RFC 5545): raised by every move and by the cancellation, so
    # that a calendar replaces the event it already holds under the same UID.
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Block(Base):
    """Time a counter (or all counters) of a location is not bookable, set by staff."""

    __tablename__ = "blocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), index=True)
    location_id: Mapped[str] = mapped_column(String(100))
    counter: Mapped[int | None] = mapped_column(Integer)  # None: every counter
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SlotClaim(Base):
    """One grid unit (e.g. 5 minutes) of one counter, taken by an appointment or a block.

    The unique constraint is what makes double booking impossible, in any process and on
    any database: a booking inserts a claim for every unit it covers, in one transaction.
    The foreign key to (id, slug, location_id, counter) of its appointment makes a claim at
    another place than its appointment's impossible: appointment and claims cannot disagree.
    """

    __tablename__ = "slot_claims"
    __table_args__ = (
        UniqueConstraint("slug", "location_id", "counter", "unit_start"),
        ForeignKeyConstraint(["appointment_id", "slug", "location_id", "counter"],
                             ["appointments.id", "appointments.slug", "appointments.location_id",
                              "appointments.counter"], name="fk_slot_claims_appointment_place", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(60))
    location_id: Mapped[str] = mapped_column(String(100))
    counter: Mapped[int] = mapped_column(Integer)
    unit_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    appointment_id: Mapped[int | None] = mapped_column(Integer, index=True)
    block_id: Mapped[int | None] = mapped_column(ForeignKey("blocks.id", ondelete="CASCADE"), index=True)


Index("ix_slot_claims_location_time", SlotClaim.slug, SlotClaim.location_id, SlotClaim.unit_start)


class StaffUser(Base):
    """A clerk of one municipality (staff area under /<slug>/verwaltung/)."""

    __tablename__ = "staff_users"
    __table_args__ = (UniqueConstraint("slug", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), index=True)
    username: Mapped[str] = mapped_column(String(80))
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffSession(Base):
    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarFeed(Base):
    """The secret of a location's iCalendar feed for counter staff (only its hash is kept)."""

    __tablename__ = "calendar_feeds"

    slug: Mapped[str] = mapped_column(String(60), primary_key=True)
    location_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---------------------------------------------------------------- inbox


class Message(Base):
    """A message in the citizen's inbox (Postfach). Mail only says that one is waiting."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str | None] = mapped_column(String(60))
    sender: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A message from an office about an application: the citizen can answer it.
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id", ondelete="SET NULL"),
                                                       index=True)
    attachments: Mapped[list[MessageAttachment]] = relationship(
        cascade="all, delete-orphan", order_by="MessageAttachment.id", lazy="selectin")


class MessageAttachment(Base):
    """A file sent with an inbox message (an office's decision as PDF, say)."""

    __tablename__ = "message_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)


# ---------------------------------------------------------------- applications


class Office(Base):
    """An office (organisational unit of a municipality) that receives applications: its public
    key encrypts them, its API token (only the hash is kept) fetches them."""

    __tablename__ = "offices"
    __table_args__ = (UniqueConstraint("slug", "unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), index=True)
    unit_id: Mapped[str] = mapped_column(String(100))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The delivery channel: None is our office API; "fit-connect" sends every application through
    # FIT-Connect as well, to the pinned destination, or (no destination) to the one the routing
    # API finds for the service's LeiKa key and the town's regional key.
    channel: Mapped[str | None] = mapped_column(String(20))
    fit_connect_destination: Mapped[str | None] = mapped_column(String(36))


class FormDraft(Base):
    """What a citizen typed into a form so far, encrypted with the portal's key: nothing is
    lost on an error, a timeout or a new login. Deleted when the application is sent."""

    __tablename__ = "form_drafts"
    __table_args__ = (UniqueConstraint("account_id", "slug", "form_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(60))
    form_id: Mapped[str] = mapped_column(String(100))
    token: Mapped[str] = mapped_column(String(64), unique=True)  # the submission's idempotency key
    data: Mapped[str] = mapped_column(Text)  # Fernet token of the JSON answers and files
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Application(Base):
    """A sent application. `jwe` is readable only with the receiving office's private key;
    `citizen_copy` (the citizen's receipt) only with the portal's key."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    slug: Mapped[str] = mapped_column(String(60), index=True)
    form_id: Mapped[str] = mapped_column(String(100))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    submission_token: Mapped[str] = mapped_column(String(64), unique=True)
    jwe: Mapped[str] = mapped_column(Text)
    citizen_copy: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)  # new → received
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ApplicationMessage(Base):
    """One message about an application: from the office (a copy of what went into the inbox)
    or from the citizen (encrypted for the office, like the application).

    An office's message may carry the request's `Idempotency-Key` and a hash of its body: the
    unique constraint lets one message per key and application in, however many retries race."""

    __tablename__ = "application_messages"
    __table_args__ = (UniqueConstraint("application_id", "idempotency_key",
                                       name="uq_application_messages_idempotency_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(10))  # "office" | "citizen"
    subject: Mapped[str] = mapped_column(String(200))
    jwe: Mapped[str | None] = mapped_column(Text)  # the citizen's text, for the office
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the request's JSON, canonical


class KeptForm(Base):
    """What a citizen sent to a page while their login had ended, kept until they are logged in
    again: encrypted with the portal's key like a draft. The session cookie holds only a random
    reference (the table only its hash). Taken once, or deleted after its time (auth.KEPT_FOR)."""

    __tablename__ = "kept_forms"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text)  # Fernet token of the JSON path, owner and fields
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ApplicationAttachment(Base):
    """One file of an application (a citizen's upload, or the PDF of the whole application,
    field "antrag-pdf"), encrypted for the receiving office on its own, so that the
    application's JWE stays small and the office fetches files one by one. `public_id` is the
    random id the API shows (never the row number); `sha512` is the hash of the plain bytes,
    also listed in the encrypted application, which the office checks after decrypting."""

    __tablename__ = "application_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    field: Mapped[str] = mapped_column(String(100))  # the form's field id, or "antrag-pdf"
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha512: Mapped[str] = mapped_column(String(128))  # hex, of the plain bytes
    jwe: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FitConnectSubmission(Base):
    """An application on its way through FIT-Connect, and how far it got: the outbox item
    resumes from here (a submission created once, each attachment uploaded once), and the
    case's events decide `status`. Everything sent is prepared at sending, encrypted for the
    office's key (`kid`), which the destination must publish as its encryption key; the
    application's own JWE is the submission's encrypted data."""

    __tablename__ = "fit_connect_submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), unique=True)
    destination_id: Mapped[str | None] = mapped_column(String(36))  # pinned, or found by routing
    leika: Mapped[str] = mapped_column(String(100))  # urn:de:fim:leika:leistung:…
    region: Mapped[str | None] = mapped_column(String(12))  # ARS or AGS, for routing
    service_name: Mapped[str] = mapped_column(String(200))
    schema_uri: Mapped[str] = mapped_column(String(500))
    kid: Mapped[str] = mapped_column(String(200))  # the key everything was encrypted for
    metadata_jwe: Mapped[str] = mapped_column(Text)
    # The citizen allowed answers by e-mail: the same metadata with that reply channel, sent
    # instead of `metadata_jwe` only where the destination offers e-mail without PGP.
    metadata_with_reply_jwe: Mapped[str | None] = mapped_column(Text)
    reply_channel: Mapped[str | None] = mapped_column(String(20))  # what was sent: "eMail" or None
    submission_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    case_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued, submitted, accepted, rejected
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class FitConnectAttachment(Base):
    """One attachment announced in a FIT-Connect submission: its JWE (the plain file encrypted
    for the destination's key) until it is uploaded; `uploaded_at` marks the step as done."""

    __tablename__ = "fit_connect_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_row: Mapped[int] = mapped_column(ForeignKey("fit_connect_submissions.id", ondelete="CASCADE"),
                                                index=True)
    attachment_id: Mapped[str] = mapped_column(String(36))  # the UUID announced and named in the metadata
    jwe: Mapped[str] = mapped_column(Text)  # emptied once the submission is submitted
    uploaded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
