"""Smoke run of bench/appointments.py: it starts, measures and checks for double bookings.

The figures themselves are not asserted (speed targets are read from the benchmark's output,
never checked by timed assertions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.dynamic.conftest import need_service, postgres_reachable

ROOT = Path(__file__).resolve().parent.parent.parent


def test_appointments_benchmark_quick_run_prints_its_table_and_no_double_bookings() -> None:
    need_service(postgres_reachable(), "PostgreSQL")
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "appointments.py"), "--quick"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    for row in ("baseline   GET /healthz/live", "free slots GET day view", "earliest   GET earliest times",
                "booking    POST a time (hold)",
                "confirm    POST the reservation", "contended round:"):
        assert row in run.stdout, run.stdout
    assert "double bookings: 0 " in run.stdout
    assert "appointments whose claims do not cover their time: 0;" in run.stdout
