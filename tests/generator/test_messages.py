"""The catalogue of messages (generator/messages.yaml): the checker writes from it, the handbook renders it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.messages import Message, catalogue, documented, say

ROOT = Path(__file__).resolve().parent.parent.parent


def message(template: str) -> Message:
    return Message("probe", "Gruppe", "fehler", template, "Lösung.", {})


def test_a_template_fills_values_leaves_out_empty_optional_parts_and_keeps_doubled_braces() -> None:
    probe = message('unknown {art:unit|town} "{kennung}"[[; did you mean "{vorschlag}"?]] {{gender: f}}')
    assert probe(art="unit", kennung="amt", vorschlag=None) == 'unknown unit "amt" {gender: f}'
    assert probe(art="town", kennung="dorf", vorschlag="dorf-a") == 'unknown town "dorf"; did you mean "dorf-a"? ' \
                                                                   "{gender: f}"
    assert probe.readable() == 'unknown ‹art› "‹kennung›"[; did you mean "‹vorschlag›"?] {gender: f}'
    assert probe.pattern().fullmatch('unknown unit "x" {gender: f}')
    assert not probe.pattern().fullmatch('unknown street "x" {gender: f}')


def test_a_message_refuses_missing_or_unknown_values_and_words_outside_its_choice() -> None:
    probe = message("{feld:the duration|step_minutes} must be a multiple of 5 minutes, got {wert}")
    with pytest.raises(TypeError):
        probe(feld="the duration")
    with pytest.raises(TypeError):
        probe(feld="the duration", wert=7, extra=1)
    with pytest.raises(ValueError):
        probe(feld="the length", wert=7)


def test_every_message_the_code_says_is_in_the_catalogue_with_the_values_it_names() -> None:
    known = catalogue()
    calls = []
    for path in (ROOT / "generator").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for found in re.finditer(r'say\(\s*"([a-z0-9-]+)"((?:[^()]|\([^()]*\))*)\)', source):
            calls.append((path.name, found.group(1), set(re.findall(r"([a-z_]+)=", found.group(2)))))
    assert len(calls) > 80
    for name, message_id, values in calls:
        assert message_id in known, f"{name}: say({message_id!r}) is not in generator/messages.yaml"
        assert values == set(known[message_id].names()), f"{name}: {message_id} takes {known[message_id].names()}"


def test_each_message_fits_its_own_template_and_no_other_kind() -> None:
    assert documented(say("stelle-ohne-standort", einheit="amt"), "warnung")
    assert not documented(say("stelle-ohne-standort", einheit="amt"), "fehler")
    assert documented(say("unbekannte-kennung-der-kommune", art="location", kennung="x", vorschlag="y"))


def test_every_template_of_the_catalogue_reads() -> None:
    for entry in catalogue().values():
        assert entry.pattern().pattern, entry.id
        assert entry.kind in ("fehler", "warnung", "link") and entry.fix, entry.id
