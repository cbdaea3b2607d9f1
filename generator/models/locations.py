"""A municipality's locations (municipalities/SLUG/locations/): address, opening hours, booking."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator, model_validator

from katalog import models as k
from katalog.base import default_of
from katalog.models import BOOKING_DEFAULTS  # the one definition of the booking defaults

from ..messages import say
from .base import WEEKDAYS, Address, Clock, Model, TownId, Weekday, _clock, _five_minute_grid
from .provenance import Sourced


class Geo(Model):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class OpeningHours(Model):
    days: list[Weekday] = Field(min_length=1)
    opens: Clock
    closes: Clock

    _clock_opens = field_validator("opens", "closes", mode="before")(lambda cls, v: _clock(v))

    @model_validator(mode="after")
    def _opens_before_closes(self) -> OpeningHours:
        if self.opens >= self.closes:
            raise ValueError(say("oeffnet-nach-schluss", beginn=self.opens, ende=self.closes))
        return self


def _without_overlaps(hours: list[OpeningHours]) -> list[OpeningHours]:
    for day in WEEKDAYS:
        spans = sorted((h.opens, h.closes) for h in hours if day in h.days)
        for (_, first_end), (second_start, _) in zip(spans, spans[1:], strict=False):
            if second_start < first_end:
                raise ValueError(say("oeffnungszeiten-ueberschneiden-sich", tag=day, beginn=second_start,
                                     ende=first_end))
    return hours


def outside_hours(inner: OpeningHours, outer: list[OpeningHours]) -> list[str]:
    """The weekdays on which the span of `inner` does not lie within one span of `outer`."""
    return [
        day
        for day in inner.days
        if not any(day in o.days and o.opens <= inner.opens and inner.closes <= o.closes for o in outer)
    ]


class Exception_(Model):
    date: dt.date
    closed: bool = False
    opens: Clock | None = None
    closes: Clock | None = None
    note: str | None = None

    _clock_opens = field_validator("opens", "closes", mode="before")(lambda cls, v: _clock(v))

    @model_validator(mode="after")
    def _closed_or_hours(self) -> Exception_:
        if self.closed and (self.opens or self.closes):
            raise ValueError(say("geschlossen-mit-zeiten"))
        if not self.closed and not (self.opens and self.closes):
            raise ValueError(say("ausnahme-ohne-zeiten"))
        if self.opens and self.closes and self.opens >= self.closes:
            raise ValueError(say("oeffnet-nach-schluss", beginn=self.opens, ende=self.closes))
        return self


class Booking(Model):
    """Wie ein Standort Termine vergibt. Was fehlt, gilt mit dem genannten Standardwert."""

    counters: int = Field(default=BOOKING_DEFAULTS.counters, ge=1, le=50,
                          description="Schalter, die gleichzeitig Termine annehmen")
    days_ahead: int = Field(default=BOOKING_DEFAULTS.days_ahead, ge=1, le=365,
                            description="So viele Tage im Voraus sind Termine buchbar")
    lead_minutes: int = Field(
        default=BOOKING_DEFAULTS.lead_minutes, ge=0, le=7 * 24 * 60,
        description="Bis so viele Minuten vor Beginn ist ein Termin noch buchbar"
    )
    cancel_hours: int = Field(
        default=BOOKING_DEFAULTS.cancel_hours,
        ge=0,
        le=14 * 24,
        description="Bis so viele Stunden vor Beginn lässt sich ein Termin absagen oder verschieben",
    )
    step_minutes: int = Field(
        default=BOOKING_DEFAULTS.step_minutes, ge=5, le=240,
        description="Termine beginnen in diesem Takt, in Minuten (ein Vielfaches von 5)"
    )
    hours: list[OpeningHours] | None = Field(
        default=None,
        description="Zeiten für Termine, wenn sie von den Öffnungszeiten abweichen; sie liegen in den Öffnungszeiten",
    )

    @field_validator("step_minutes")
    @classmethod
    def _on_the_grid(cls, value: int) -> int:
        return _five_minute_grid(value, "step_minutes")

    @field_validator("hours")
    @classmethod
    def _no_overlaps(cls, hours: list[OpeningHours] | None) -> list[OpeningHours] | None:
        return None if hours is None else _without_overlaps(hours)


class BuildingAccess(Model):
    step_free: bool = Field(description="Stufenlos erreichbar (Eingang und die Räume der Leistungen)")
    accessible_toilet: bool | None = Field(None, description="Barrierefreie Toilette im Gebäude")
    accessible_parking: str | None = Field(None, description="Behindertenparkplätze: wo und wie viele")
    hearing_loop: bool | None = Field(None, description="Induktive Höranlage für Hörgeräte")
    notes: str | None = Field(None, description="Weitere Hinweise zur Barrierefreiheit, z. B. Klingel am Seiteneingang")


class Location(Sourced):
    name: str = Field(description="Name des Standorts, z. B. Stadthaus 1")
    address: Address = Field(description="Anschrift des Gebäudes")
    geo: Geo | None = Field(None, description="Lage für Karten und Suchmaschinen (Breite, Länge)")
    town: TownId | None = Field(None, description="Im Kreis: die Stadt oder Gemeinde, in der der Standort liegt")
    phone: str | None = Field(None, description="Telefonnummer des Standorts")
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", description="E-Mail-Adresse des Standorts")
    opening_hours: list[OpeningHours] = Field(default_factory=list, description="Öffnungszeiten nach Wochentagen")
    opening_hours_note: str | None = Field(
        None, min_length=10, max_length=300,
        description="Statt Öffnungszeiten, wenn der Standort keine gemeinsamen hat oder sie nicht belegt sind: ein "
        "Satz, der sagt, wo Bürgerinnen und Bürger die Zeiten finden (z. B. »Die Stellen im Haus haben eigene Zeiten; "
        "sie stehen auf ihren Seiten.«). Ohne ihn und ohne Öffnungszeiten sagt die Seite »Nur nach Vereinbarung«")
    closed_on_public_holidays: bool = Field(
        default_of(k.Location, "closed_on_public_holidays"),
        description="An gesetzlichen Feiertagen in NRW geschlossen")
    exceptions: list[Exception_] = Field(default_factory=list,
                                         description="Abweichende Tage: geschlossen oder andere Zeiten")
    accessibility: BuildingAccess | None = Field(None, description="Barrierefreiheit des Gebäudes")
    transport: list[str] = Field(default_factory=list, description="Anfahrt mit Bus und Bahn, je ein Satz")
    booking: Booking | None = Field(None, description="Terminvergabe an diesem Standort")

    @field_validator("opening_hours")
    @classmethod
    def _no_overlaps(cls, hours: list[OpeningHours]) -> list[OpeningHours]:
        return _without_overlaps(hours)

    @property
    def booking_settings(self) -> Booking:
        """The booking block with every default filled, hours defaulting to the opening hours."""
        booking = self.booking or Booking()
        return booking if booking.hours is not None else booking.model_copy(update={"hours": self.opening_hours})

    @field_validator("exceptions")
    @classmethod
    def _one_exception_a_day(cls, exceptions: list[Exception_]) -> list[Exception_]:
        seen: set[dt.date] = set()
        for exc in exceptions:
            if exc.date in seen:
                raise ValueError(say("ausnahme-doppelt", datum=exc.date))
            seen.add(exc.date)
        return exceptions
