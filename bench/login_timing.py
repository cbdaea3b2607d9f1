#!/usr/bin/env python3
"""How long the account's requests take for a known and an unknown address, side by side.

    python bench/login_timing.py [--rounds 20]

Builds the fixture sites, migrates a fresh SQLite database in a temporary folder and drives
the app with Flask's test client (no network, CSRF off, limits out of the way). Every round
sends each request once, interleaved: log in (unknown address, known address with a wrong
password, the right password, an address not yet confirmed, an account of the state login
without a password), register (new, known and confirmed, known and not yet confirmed),
request a password reset (known, unknown) and change the address (to a free or a taken one).
It prints the median time of each; the pairs should be as close as the noise allows, since
every one of these requests does exactly one argon2 operation (issue 14).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "Kirschbaum Fahrrad Leuchtturm"
KNOWN, UNCONFIRMED, STATE_ONLY = "erika.probe@example.org", "noch.offen@example.org", "nur.land@example.org"
TAKEN = "schon.vergeben@example.org"
PLENTY = "1000000/hour"  # no limit gets in the way of the measurement


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    from dynamic import create_app
    from dynamic.platform.config import settings_from_env
    from dynamic.platform.db import db
    from dynamic.platform.models import Account, utcnow
    from dynamic.platform.passwords import hash_password
    from dynamic.serve import migrate_database
    from generator.pipeline import build
    from tests.conftest import FIXTURE_CONTENT

    with tempfile.TemporaryDirectory(prefix="login-timing-") as folder:
        output, var = Path(folder) / "output", Path(folder) / "var"
        build(FIXTURE_CONTENT, output, show_progress=False)
        overrides = dict(output_dir=output, var_dir=var, base_url="http://localhost",
                         secret_key="bench-secret-" + "b" * 32, login_limit_account=PLENTY,
                         login_limit_account_total=PLENTY, login_limit_address=PLENTY, request_limit_address=PLENTY)
        migrate_database(**overrides)
        app = create_app(settings_from_env({}, **overrides), WTF_CSRF_ENABLED=False)
        with app.app_context():
            for email, password, confirmed in ((KNOWN, PASSWORD, True), (TAKEN, PASSWORD, True),
                                               (UNCONFIRMED, PASSWORD, False), (STATE_ONLY, None, True)):
                db().add(Account(email=email, password_hash=hash_password(password) if password else None,
                                 email_confirmed_at=utcnow() if confirmed else None))
            db().commit()

        logged_in = app.test_client()
        assert logged_in.post("/konto/anmelden", data={"email": KNOWN, "passwort": PASSWORD}).status_code == 302
        fresh = iter(range(10**9))

        def login(email: str, password: str) -> Callable[[], int]:
            return lambda: app.test_client().post("/konto/anmelden", data={"email": email, "passwort": password}
                                                  ).status_code

        def register(email: str | None) -> Callable[[], int]:
            return lambda: app.test_client().post("/konto/registrieren", data={
                "email": email or f"neu{next(fresh)}@example.org", "passwort": PASSWORD,
                "datenschutz": "ja"}).status_code

        def reset(email: str) -> Callable[[], int]:
            return lambda: app.test_client().post("/konto/passwort-vergessen", data={"email": email}).status_code

        def change(email: str | None) -> Callable[[], int]:
            return lambda: logged_in.post("/konto/email", data={
                "email": email or f"frei{next(fresh)}@example.org", "passwort": PASSWORD}).status_code

        pairs: list[tuple[str, tuple[str, Callable[[], int]], tuple[str, Callable[[], int]]]] = [
            ("login", ("known, wrong password", login(KNOWN, "geraten geraten")),
             ("unknown address", login("niemand@example.org", "geraten geraten"))),
            ("login", ("known, right password", login(KNOWN, PASSWORD)),
             ("account without password", login(STATE_ONLY, "geraten geraten"))),
            ("login", ("not yet confirmed", login(UNCONFIRMED, PASSWORD)),
             ("unknown address", login("niemand2@example.org", PASSWORD))),
            ("registration", ("known, confirmed", register(KNOWN)), ("new address", register(None))),
            ("registration", ("known, not confirmed", register(UNCONFIRMED)), ("new address", register(None))),
            ("password reset", ("known address", reset(KNOWN)), ("unknown address", reset("niemand@example.org"))),
            ("address change", ("taken address", change(TAKEN)), ("free address", change(None))),
        ]
        times: dict[tuple[int, int], list[float]] = {}
        for round_number in range(args.rounds + 1):
            for index, (_, *sides) in enumerate(pairs):
                for side, (_, request) in enumerate(sides):
                    started = time.perf_counter()
                    status = request()
                    elapsed = (time.perf_counter() - started) * 1000
                    assert status in (200, 302), status
                    if round_number:  # the first round warms up
                        times.setdefault((index, side), []).append(elapsed)
        app.extensions["db_engine"].dispose()

    print(f"Median of {args.rounds} requests each, test client, SQLite, argon2id "
          f"({sys.platform}, Python {sys.version.split()[0]}):")
    print(f"{'':15} {'':26} {'ms':>7}   {'':26} {'ms':>7}   {'difference':>10}")
    for index, (what, (left, _), (right, _)) in enumerate(pairs):
        a, b = statistics.median(times[(index, 0)]), statistics.median(times[(index, 1)])
        print(f"{what:15} {left:26} {a:7.1f}   {right:26} {b:7.1f}   {a - b:+9.1f}")


if __name__ == "__main__":
    main()
