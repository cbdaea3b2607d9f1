"""`build.py check` reads content/search/best-bets.yaml: every page it names exists, and every
query is given once as the search compares queries; each error names file, line and field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from generator.errors import ContentError
from generator.pipeline import check
from generator.resolve import resolve

ROOT = Path(__file__).resolve().parent.parent.parent
FILE = "content/search/best-bets.yaml"


def write(content: Path, text: str) -> None:
    target = content / "search" / "best-bets.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def problems_of(content: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        check(content)
    return [str(p) for p in caught.value.problems]


VALID = """\
bets:
  - queries: [umzug, neue wohnung]
    pages:
      - life_situation: umzug
      - service: meldebescheinigung
  - queries: [termin]
    pages:
      - page: termine
"""


def test_valid_best_bets_reach_every_catalog(content: Path) -> None:
    write(content, VALID)
    catalogs = resolve(check(content))
    for catalog in catalogs.values():
        assert [list(bet.queries) for bet in catalog.best_bets] == [["umzug", "neue wohnung"], ["termin"]]
        assert catalog.best_bets[0].pages[1].service == "meldebescheinigung"


def test_without_the_file_there_are_no_best_bets(content: Path) -> None:
    assert all(catalog.best_bets == () for catalog in resolve(check(content)).values())


def test_unknown_pages_are_named_with_file_line_and_field(content: Path) -> None:
    write(content, """\
bets:
  - queries: [umzug]
    pages:
      - life_situation: umzgu
      - service: meldebescheinigun
""")
    assert problems_of(content) == [
        f'{FILE}:4: bets[0].pages[0].life_situation: unknown life situation "umzgu"; did you mean "umzug"?',
        f'{FILE}:5: bets[0].pages[1].service: unknown service "meldebescheinigun"; did you mean "meldebescheinigung"?',
    ]


def test_an_unknown_fixed_page_is_named_with_the_known_ones(content: Path) -> None:
    write(content, """\
bets:
  - queries: [umzug]
    pages:
      - page: startseite
""")
    assert problems_of(content) == [
        f"{FILE}:4: bets[0].pages[0].page: expected one of termine, a-z, themen, lebenslagen, organisation, "
        'standorte; got "startseite"; did you mean "standorte"?']


def test_a_query_given_twice_is_found_even_in_another_spelling(content: Path) -> None:
    write(content, """\
bets:
  - queries: [Auto anmelden, umzug]
    pages:
      - service: fahrzeug-zulassen
  - queries:
      - anmelden   AUTO
      - Umzug
    pages:
      - life_situation: umzug
""")
    assert problems_of(content) == [
        f'{FILE}:6: bets[1].queries[0]: "anmelden   AUTO" is searched like "Auto anmelden" (line 2); give each query once',
        f'{FILE}:7: bets[1].queries[1]: "Umzug" is searched like "umzug" (line 2); give each query once',
    ]


def test_a_query_of_only_ignored_words_is_refused(content: Path) -> None:
    write(content, """\
bets:
  - queries: [ich will beantragen]
    pages:
      - service: kindergeld
""")
    assert problems_of(content) == [
        f'{FILE}:2: bets[0].queries[0]: "ich will beantragen" has only words the search ignores (such as "und", '
        '"ich", "beantragen"); add a word that says what is meant']


def test_a_page_names_exactly_one_target(content: Path) -> None:
    write(content, """\
bets:
  - queries: [kindergeld]
    pages:
      - service: kindergeld
        page: termine
      - {}
""")
    found = problems_of(content)
    assert f"{FILE}:4: bets[0].pages[0]: give exactly one of service, life_situation or page" in found
    assert f"{FILE}:6: bets[0].pages[1]: give exactly one of service, life_situation or page" in found


def test_the_command_line_check_prints_the_error_and_fails(content: Path) -> None:
    write(content, VALID.replace("service: meldebescheinigung", "service: gibt-es-nicht"))
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "check", "--content", str(content)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert f'{FILE}:5: bets[0].pages[1].service: unknown service "gibt-es-nicht"' in result.stdout + result.stderr
