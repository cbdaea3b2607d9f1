"""The katalog package: the contract of katalog.json stands alone and survives a round trip."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import katalog
from generator.export import katalog_json
from generator.pipeline import check
from generator.resolve import resolve
from tests.conftest import FIXTURE_CONTENT
from tests.katalog_builder import booking_site, write

PACKAGE = Path(katalog.__file__).parent
FORBIDDEN = {"flask", "pelican", "yaml", "generator", "dynamic", "search_index", "werkzeug", "jinja2"}


def test_the_package_imports_neither_the_app_nor_the_build_nor_yaml() -> None:
    found = set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {(path.name, alias.name.split(".")[0]) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add((path.name, node.module.split(".")[0]))
    assert not sorted((name, module) for name, module in found if module in FORBIDDEN)


def test_an_exported_katalog_reads_back_and_dumps_to_the_same_text() -> None:
    for catalog in resolve(check(FIXTURE_CONTENT)).values():
        text = katalog_json(catalog, "https://portal.example")
        assert katalog.dump(katalog.parse(text)) == text


def test_a_built_katalog_is_where_the_app_reads_it(tmp_path: Path) -> None:
    output = write(tmp_path, booking_site("beispiel", counters=3))
    found = katalog.read(output / "beispiel" / "katalog.json")
    assert found.slug == "beispiel" and found.locations["rathaus"].booking is not None
    assert found.locations["rathaus"].booking.counters == 3
    assert found.locations["rathaus"].booking.cancel_hours == 24  # the default, from the model
    assert json.loads(katalog.dump(found))["services"]["personalausweis-beantragen"]["online"] is None


def test_example_marks_survive_a_round_trip_and_old_files_read_without_them() -> None:
    from tests.katalog_builder import katalog as build
    from tests.katalog_builder import location, municipality, service

    marked = build(municipality=municipality(beispiel_felder=["phone"]),
                   services={"ausweis": service(beispiel_felder=["fees", "documents"])},
                   locations={"rathaus": location(beispiel=True)})
    found = katalog.parse(katalog.dump(marked))
    assert found == marked
    assert found.municipality.is_example("phone") and not found.municipality.is_example("email")
    assert found.services["ausweis"].is_example("documents") and not found.services["ausweis"].is_example("name")
    assert found.locations["rathaus"].is_example("address") and found.locations["rathaus"].is_example("opening_hours")
    # A file written before the marks existed reads as one without examples.
    old = json.loads(katalog.dump(build(locations={"rathaus": location()})))
    for part in (old["municipality"], old["locations"]["rathaus"]):
        del part["beispiel"], part["beispiel_felder"]
    assert not katalog.parse(json.dumps(old)).locations["rathaus"].is_example("address")
