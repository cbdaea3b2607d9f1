"""The home page's top tasks (municipality.yaml top_tasks) and a life situation's steps
(steps:) are checked with file, line and field, like every other reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.pipeline import check

from .test_validate import problems_of

CITY = "municipalities/stadt/municipality.yaml"
UMZUG = "life-situations/umzug.yaml"


def append(content: Path, file: str, text: str) -> int:
    """Add YAML at the end of a fixture file; the number of the first added line."""
    path = content / file
    before = path.read_text(encoding="utf-8")
    path.write_text(before + text, encoding="utf-8")
    return before.count("\n") + 1


GOOD_TASKS = """top_tasks:
  - page: termine
  - {service: personalausweis-beantragen, label: Personalausweis}
  - service: meldebescheinigung
"""
GOOD_STEPS = """steps:
  - title: Neue Wohnung anmelden
    note: Bringen Sie die Wohnungsgeberbestätigung mit.
    required: [meldebescheinigung]
    optional: [personalausweis-beantragen]
  - title: Auto ummelden
    optional: [fahrzeug-zulassen]
"""


def test_top_tasks_and_steps_that_name_known_services_are_valid(content: Path) -> None:
    append(content, CITY, GOOD_TASKS)
    append(content, UMZUG, GOOD_STEPS)
    valid = check(content)
    tasks = valid.municipalities["stadt"].municipality.top_tasks
    assert [(t.page, t.service, t.label) for t in tasks] == [
        ("termine", None, None), (None, "personalausweis-beantragen", "Personalausweis"),
        (None, "meldebescheinigung", None)]
    steps = valid.life_situations["umzug"].steps
    assert [(s.title, s.required, s.optional) for s in steps] == [
        ("Neue Wohnung anmelden", ["meldebescheinigung"], ["personalausweis-beantragen"]),
        ("Auto ummelden", [], ["fahrzeug-zulassen"])]


TASK_CASES = [
    pytest.param("top_tasks:\n  - page: termine\n  - service: personalausweis-beantragn\n", 3,
                 'top_tasks[1].service: unknown service "personalausweis-beantragn"; did you mean '
                 '"personalausweis-beantragen"?', id="unknown-service"),
    pytest.param("top_tasks:\n  - page: termine\n  - service: kindergeld\n  - {service: kindergeld, label: Kindergeld}\n",
                 4, 'top_tasks[2].service: "kindergeld" is listed twice (also top_tasks[1])', id="listed-twice"),
    pytest.param("top_tasks:\n  - page: termine\n  - page: termine\n", 3,
                 'top_tasks[1].page: "termine" is listed twice (also top_tasks[0])', id="booking-twice"),
    pytest.param("top_tasks:\n  - {service: kindergeld, page: termine}\n", 2,
                 "top_tasks[0]: give either service or page", id="service-and-page"),
    pytest.param("top_tasks:\n  - label: Personalausweis\n", 2,
                 "top_tasks[0]: give either service or page", id="neither"),
    pytest.param("top_tasks:\n  - page: suche\n", 2,
                 'top_tasks[0].page: expected one of termine; got "suche"', id="unknown-page"),
    pytest.param("top_tasks:\n  - service: kindergeld\n  - service: meldebescheinigung\n"
                 "  - service: fahrzeug-zulassen\n  - page: termine\n", 5,
                 "top_tasks[3].page: appointments are bookable online (features.appointments), so the booking page "
                 "(page: termine) belongs among the first three top tasks, where citizens see it on a phone "
                 "without scrolling", id="booking-too-far-down"),
    pytest.param("top_tasks:\n  - service: kindergeld\n", 1,
                 "top_tasks: appointments are bookable online (features.appointments), so the booking page "
                 "(page: termine) belongs among the first three top tasks", id="booking-missing"),
]


# line: the line of the appended text (counted from 1) the message names.
@pytest.mark.parametrize(("text", "line", "expected"), TASK_CASES)
def test_top_task_errors_name_file_line_and_field(content: Path, text: str, line: int, expected: str) -> None:
    first = append(content, CITY, text)
    found = problems_of(content)
    where = f"content/{CITY}:{first + line - 1}: "
    assert any(p.startswith(where + expected) for p in found), "\n".join(found)


def test_booking_as_a_top_task_needs_appointments_switched_on(content: Path) -> None:
    path = content / CITY
    text = path.read_text(encoding="utf-8")
    start = text.index("  appointments:")
    path.write_text(text[:start], encoding="utf-8")  # features: online_forms only
    first = append(content, CITY, "top_tasks:\n  - service: kindergeld\n  - page: termine\n")
    assert (f'content/{CITY}:{first + 2}: top_tasks[1].page: page "termine" lists the services bookable online, '
            "but no appointments are switched on (features.appointments); remove this entry or switch "
            "appointments on") in problems_of(content)


STEP_CASES = [
    pytest.param("steps:\n  - title: Anmelden\n    required: [meldebescheinigung, personalausweis-beantragn]\n", 3,
                 'steps[0].required[1]: unknown service "personalausweis-beantragn"; did you mean '
                 '"personalausweis-beantragen"?', id="unknown-service"),
    pytest.param("steps:\n  - title: Anmelden\n    required: [meldebescheinigung]\n"
                 "  - title: Danach\n    optional: [kindergeld, meldebescheinigung]\n", 5,
                 'steps[1].optional[1]: service "meldebescheinigung" is listed twice (also steps[0].required[0]); '
                 "list each service in one step only", id="listed-twice"),
    pytest.param("steps:\n  - title: Vielleicht\n    optional: [kindergeld]\n"
                 "  - title: Pflicht\n    required: [meldebescheinigung]\n", 5,
                 "steps[1].required: this step has duties (required) but comes after steps[0], which has only "
                 "optional services; put the steps with duties first", id="duties-after-optional"),
    pytest.param("steps:\n  - title: Leerer Schritt\n", 2,
                 "steps[0]: a step needs services (required or optional) or a note", id="empty-step"),
    pytest.param("steps:\n  - titel: Anmelden\n    required: [meldebescheinigung]\n", 2,
                 'steps[0].titel: unknown key; did you mean "title"?', id="misspelt-key"),
]


@pytest.mark.parametrize(("text", "line", "expected"), STEP_CASES)
def test_step_errors_name_file_line_and_field(content: Path, text: str, line: int, expected: str) -> None:
    first = append(content, UMZUG, text)
    found = problems_of(content)
    assert any(p.startswith(f"content/{UMZUG}:{first + line - 1}: {expected}") for p in found), "\n".join(found)


def test_a_step_with_only_a_note_may_stand_between_duties(content: Path) -> None:
    append(content, UMZUG, "steps:\n  - title: Vorher\n    note: Kündigen Sie die alte Wohnung.\n"
                           "  - title: Anmelden\n    required: [meldebescheinigung]\n")
    assert check(content).life_situations["umzug"].steps[0].note == "Kündigen Sie die alte Wohnung."
