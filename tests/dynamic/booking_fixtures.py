"""A built site whose katalog.json switches booking on, for the appointment tests."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
from pathlib import Path
from typing import Any

MONDAY_MORNING = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)  # 07:00 in Münster


class Clock:
    """The app's clock in a test (app.config["CLOCK"]): set, and moved on by hand."""

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def __call__(self) -> dt.datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += dt.timedelta(**delta)
HOURS = [{"days": ["mo", "tu", "we", "fr"], "opens": "08:00", "closes": "12:30"},
         {"days": ["th"], "opens": "14:00", "closes": "18:00"}]


def booking_block(counters: int, **extra: Any) -> dict[str, Any]:
    return {"counters": counters, "days_ahead": 60, "lead_minutes": 60, "cancel_hours": 24, "step_minutes": 15,
            "hours": HOURS, **extra}


def with_booking(fixture_output: Path, target: Path) -> Path:
    """Copy the built fixture sites and switch booking on as the knowledge base would:
    stadt: ID card (15 min) and a marriage registration (45 min, 2 persons) at the town hall
    with 2 counters, account needed; kreis: ID card in Nordort without an account, 1 counter."""
    shutil.copytree(fixture_output, target, symlinks=False)
    stadt = json.loads((target / "stadt" / "katalog.json").read_text(encoding="utf-8"))
    stadt["locations"]["rathaus"]["booking"] = booking_block(2)
    stadt["services"]["personalausweis-beantragen"]["booking"] = {
        "duration": 15, "max_persons": 1, "trust_level": "basis", "without_account": False, "max_open": 1,
        "locations": ["rathaus"]}
    stadt["services"]["eheschliessung-anmelden"] = {
        **stadt["services"]["personalausweis-beantragen"], "name": "Eheschließung anmelden",
        "url": "/stadt/leistungen/eheschliessung-anmelden/",
        "booking": {"duration": 45, "max_persons": 2, "trust_level": "basis", "without_account": False,
                    "max_open": 1, "locations": ["rathaus"]}}
    (target / "stadt" / "katalog.json").write_text(json.dumps(stadt), encoding="utf-8")
    kreis = json.loads((target / "kreis" / "katalog.json").read_text(encoding="utf-8"))
    kreis["locations"]["rathaus-nordort"]["booking"] = booking_block(1)
    kreis["services"]["personalausweis-beantragen"]["booking"] = {
        "duration": 15, "max_persons": 1, "trust_level": "basis", "without_account": True, "max_open": 1,
        "locations": ["rathaus-nordort"]}
    (target / "kreis" / "katalog.json").write_text(json.dumps(kreis), encoding="utf-8")
    return target


def main_text(page: str) -> str:
    """What a reader hears of the page's <main>: tags dropped, entities resolved, spaces joined."""
    main = page[page.index("<main"):page.index("</main>")]
    text = html.unescape(re.sub(r"<[^>]+>", " ", main))
    return re.sub(r"\s+", " ", text).replace(" .", ".").replace(" ,", ",").replace(" :", ":").strip()
