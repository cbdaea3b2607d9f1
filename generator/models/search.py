"""The search's own files (content/search/): everyday words and best bets."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ..messages import say
from .base import LifeSituationId, Model, ServiceId


class EverydayWords(Model):
    """Wörter aus dem Alltag, die Bürgerinnen und Bürger suchen, und was sie meinen."""

    words: list[str] = Field(min_length=1, description="Was Menschen eintippen, z. B. Perso")
    means: list[str] = Field(min_length=1, description="Begriffe, die in Leistungsnamen oder Synonymen vorkommen")


class EverydayWordList(Model):
    groups: list[EverydayWords] = Field(description="Gruppen von Alltagswörtern")


# Pages of every site that a best bet can name besides services and life situations
# (search_index/documents.py FIXED_PAGES gives their titles and addresses).
FixedPage = Literal["termine", "a-z", "themen", "lebenslagen", "organisation", "standorte"]


class BestBetPage(Model):
    """Eine Seite, die die Suche für die Suchwörter zuerst zeigt: genau eines von service, life_situation, page."""

    service: ServiceId | None = Field(None, description="Leistung (Dateiname in content/services/)")
    life_situation: LifeSituationId | None = Field(
        None, description="Lebenslage (Dateiname in content/life-situations/)")
    page: FixedPage | None = Field(
        None, description="Feste Seite: termine (Termin buchen), a-z, themen, lebenslagen, organisation, standorte"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> BestBetPage:
        if sum(value is not None for value in (self.service, self.life_situation, self.page)) != 1:
            raise ValueError(say("treffer-genau-eine-seite"))
        return self


class BestBet(Model):
    """Suchwörter und die Seiten, die die Suche für sie zuerst zeigt, in dieser Reihenfolge."""

    queries: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        min_length=1,
        description="Was Menschen eintippen, z. B. umzug oder auto anmelden; Groß- und Kleinschreibung, Umlaute, "
        "Endungen, Reihenfolge und Füllwörter zählen nicht",
    )
    pages: list[BestBetPage] = Field(min_length=1, max_length=5, description="Die Seiten, beste zuerst (höchstens 5)")


class BestBetList(Model):
    bets: list[BestBet] = Field(description="Beste Treffer der Suche")
