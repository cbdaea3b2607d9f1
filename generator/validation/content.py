"""What validation hands to resolution: the models that passed, with the files they came from."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import Problem
from ..load import Document, MarkdownFile
from ..models import (
    BestBet,
    Contact,
    EverydayWordList,
    Form,
    LifeSituation,
    LocalService,
    Location,
    Municipality,
    Operator,
    Service,
    Unit,
)


@dataclass
class MunicipalityContent:
    slug: str
    municipality: Municipality
    doc: Document
    units: dict[str, Unit] = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)
    local_services: dict[str, LocalService] = field(default_factory=dict)
    news: list[MarkdownFile] = field(default_factory=list)
    pages: list[MarkdownFile] = field(default_factory=list)
    docs: dict[tuple[str, str], Document] = field(default_factory=dict)
    # What is valid but probably not meant (generator/validation/warnings.py): the build goes on
    # and prints them; `build.py check --strict` fails on them.
    warnings: list[Problem] = field(default_factory=list)
    # Provenance (generator/validation/provenance.py), by the id of their message: files without
    # a source, stale check dates, sample contacts with a real number. `check` summarises them.
    source_warnings: dict[str, list[Problem]] = field(default_factory=dict)


@dataclass
class ValidContent:
    services: dict[str, Service] = field(default_factory=dict)
    life_situations: dict[str, LifeSituation] = field(default_factory=dict)
    forms: dict[str, Form] = field(default_factory=dict)
    municipalities: dict[str, MunicipalityContent] = field(default_factory=dict)
    service_docs: dict[str, Document] = field(default_factory=dict)
    everyday_words: EverydayWordList = field(default_factory=lambda: EverydayWordList(groups=[]))
    portal: Operator | None = None  # content/portal.yaml
    best_bets: tuple[BestBet, ...] = ()
    # Provenance warnings of the shared files (services), by message id.
    source_warnings: dict[str, list[Problem]] = field(default_factory=dict)

    def warnings(self) -> list[Problem]:
        """Every warning of every municipality and of the shared files, sorted like errors."""
        found = [problem for content in self.municipalities.values() for problem in content.warnings]
        found += [problem for content in self.municipalities.values()
                  for problems in content.source_warnings.values() for problem in problems]
        found += [problem for problems in self.source_warnings.values() for problem in problems]
        return sorted(set(found))
