"""Trust levels (Vertrauensniveau): one row per level, for the static pages, the XZuFi
export, the login and the app's pages. "basis" is the portal account, or a state login
by username and password (STORK-QAA-Level-1), neither of them an eIDAS level; the others are
reached at the state's login service (SAML). Each is asked for and answered there as its
STORK QAA class."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Lifetime:
    absolute: dt.timedelta
    idle: dt.timedelta


class Means(StrEnum):
    """How a citizen logged in (stored with the login); `label` as "Mein Konto" names it."""

    label: str

    def __new__(cls, value: str, label: str = "") -> Means:  # label: given for each member, not in a look-up
        means = str.__new__(cls, value)
        means._value_ = value
        means.label = label
        return means

    KONTO = "konto", "Portalkonto mit E-Mail-Adresse und Passwort"
    PASSWORT = "passwort", "Servicekonto mit Benutzername und Passwort"
    ZERTIFIKAT = "zertifikat", "Servicekonto mit Softwarezertifikat (ELSTER)"
    EID = "eid", "Online-Ausweis (eID)"
    # A login at STORK Level-2 (eIDAS "low"), which no means of the federal account reaches.
    ANDERER = "anderer-dienst", "Anmeldung über einen anderen Anmeldedienst (eIDAS „niedrig“)"


@dataclass(frozen=True)
class Row:
    stork: str  # the STORK QAA class asked for in RequestedAuthnContext and sent in EID-CITIZEN-QAA-LEVEL
    label: str  # the level as citizens read it: by the means that reaches it, not by its name
    needs: str  # what a citizen needs to log in at this level (service pages)
    booking: str  # what a citizen needs to book an appointment at this level
    how_to_reach: str  # in the refusal of a lower level
    means: Means  # the means a SAML login at this level counts as
    source: str  # where values from a SAML login at this level come from ("Meine Daten")
    lifetime: Lifetime  # TR-03160-1: the higher the level, the shorter a login at it may last
    verified: bool  # values from a login at this level count as verified and cannot be edited
    record: str  # the level in the record an office receives (the application's PDF)


class TrustLevel(StrEnum):
    """A trust level; compares and hashes as its name ("basis" … "hoch"), lowest first."""

    row: Row

    def __new__(cls, value: str, row: Row | None = None) -> TrustLevel:  # row: given for each member
        level = str.__new__(cls, value)
        level._value_ = value
        if row is not None:
            level.row = row
        return level

    BASIS = "basis", Row(
        stork="STORK-QAA-Level-1",
        label="Konto mit E-Mail-Adresse",
        needs="ein Konto im Bürgerportal mit bestätigter E-Mail-Adresse",
        booking="Zum Buchen brauchen Sie ein Konto im Bürgerportal.",
        how_to_reach="Bitte melden Sie sich noch einmal an.",
        means=Means.PASSWORT,
        source="Servicekonto",
        lifetime=Lifetime(dt.timedelta(hours=12), dt.timedelta(minutes=60)),
        verified=False,
        record="basis (Benutzername und Passwort)",
    )
    # STORK Level-2, eIDAS "low": no login means of the federal account (BundID) reaches it (its
    # username and password is Level-1, `basis`); kept for other identity providers.
    NIEDRIG = "niedrig", Row(
        stork="STORK-QAA-Level-2",
        label="Servicekonto mit Benutzername und Passwort",
        needs="ein Servicekonto mit Benutzername und Passwort",
        booking="Zum Buchen melden Sie sich mit Ihrem Servicekonto an (Benutzername und Passwort).",
        how_to_reach="Bitte melden Sie sich mit einem Verfahren an, das mindestens dieses Vertrauensniveau "
                     "erreicht, zum Beispiel mit dem Online-Ausweis.",
        means=Means.ANDERER,
        source="Servicekonto",
        lifetime=Lifetime(dt.timedelta(hours=12), dt.timedelta(minutes=60)),
        verified=False,
        record="niedrig",
    )
    SUBSTANTIELL = "substantiell", Row(
        stork="STORK-QAA-Level-3",
        label="ELSTER-Zertifikat oder Online-Ausweis",
        needs="ein ELSTER-Zertifikat oder den Online-Ausweis",
        booking="Zum Buchen melden Sie sich mit Ihrem ELSTER-Zertifikat oder dem Online-Ausweis an.",
        how_to_reach="Bitte melden Sie sich mit einem ELSTER-Zertifikat oder dem Online-Ausweis an.",
        means=Means.ZERTIFIKAT,
        source="ELSTER-Zertifikat",
        lifetime=Lifetime(dt.timedelta(hours=2), dt.timedelta(minutes=30)),
        verified=True,
        record="substantiell",
    )
    HOCH = "hoch", Row(
        stork="STORK-QAA-Level-4",
        label="Online-Ausweis",
        needs="den Online-Ausweis (Personalausweis, elektronischen Aufenthaltstitel oder eID-Karte, jeweils mit PIN)",
        booking="Zum Buchen melden Sie sich mit dem Online-Ausweis an.",
        how_to_reach="Bitte melden Sie sich mit dem Online-Ausweis an.",
        means=Means.EID,
        source="Online-Ausweis (eID)",
        lifetime=Lifetime(dt.timedelta(minutes=30), dt.timedelta(minutes=5)),
        verified=True,
        record="hoch (Online-Ausweisfunktion)",
    )

    @property
    def rank(self) -> int:
        return list(TrustLevel).index(self)

    @property
    def stork(self) -> str:
        return self.row.stork

    @property
    def label(self) -> str:
        return self.row.label

    @property
    def lifetime(self) -> Lifetime:
        return self.row.lifetime

    @property
    def verified(self) -> bool:
        return self.row.verified


LEVELS: tuple[str, ...] = tuple(level.value for level in TrustLevel)  # the names, lowest first

# The level each means of the state login (BundID) reaches: username and password is
# STORK-QAA-Level-1, the "Basisregistrierung", which is no trust level (`basis`, never
# `niedrig`); the ELSTER certificate Level-3; the eID Level-4 (DOMAIN.md).
STATE_LOGIN_REACHES: dict[Means, TrustLevel] = {
    Means.PASSWORT: TrustLevel.BASIS,
    Means.ZERTIFIKAT: TrustLevel.SUBSTANTIELL,
    Means.EID: TrustLevel.HOCH,
}
_BY_STORK = {level.stork: level for level in TrustLevel}


def level_of(value: str | None) -> TrustLevel | None:
    """The level of that name, or None."""
    try:
        return TrustLevel(value) if value is not None else None
    except ValueError:
        return None


def level_of_stork(value: str | None) -> TrustLevel | None:
    """The level of a STORK QAA class, or None."""
    return _BY_STORK.get(value) if value is not None else None


BOOKING_WITHOUT_ACCOUNT = "Buchen ist auch ohne Konto möglich, mit Bestätigung Ihrer E-Mail-Adresse."


def booking_access(trust_level: str, without_account: bool) -> str:
    """What a citizen needs to book an appointment that asks for `trust_level`."""
    if guests_may_book(trust_level, without_account):
        return BOOKING_WITHOUT_ACCOUNT
    return TrustLevel(trust_level).row.booking


def guests_may_book(trust_level: str, without_account: bool) -> bool:
    """Booking without an account: switched on (the default) for counter services, i.e.
    appointments at trust level basis; a confirmed address reaches no higher level."""
    return without_account and trust_level == TrustLevel.BASIS


def means_label(means: str) -> str:
    """How "Mein Konto" names a stored means (unknown ones as they are)."""
    try:
        return Means(means).label
    except ValueError:
        return means


def rank(level: str) -> int:
    return TrustLevel(level).rank


def at_least(reached: str | None, needed: str) -> bool:
    return reached is not None and rank(reached) >= rank(needed)


def is_level(value: str | None) -> bool:
    return level_of(value) is not None


def means_reaching(level: str) -> tuple[Means, ...]:
    """The state login's means that reach `level` or more, weakest first."""
    return tuple(means for means, reached in STATE_LOGIN_REACHES.items() if at_least(reached, level))


def state_login_label(level: str) -> str:
    """How a state login that reached `level` is named to the citizen: by the level's label,
    except at `basis`, which the state login reaches by username and password only (the
    label of `basis` names the portal account)."""
    reached = TrustLevel(level)
    return reached.row.means.label if reached is TrustLevel.BASIS else reached.label
