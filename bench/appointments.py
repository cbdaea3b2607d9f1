#!/usr/bin/env python3
"""Benchmark appointment booking under gunicorn with PostgreSQL, and print the figures.

    python bench/appointments.py [--requests 1000] [--threads 8] [--rounds 3] [--quick]

Starts the app under gunicorn (gthread workers by default) on a fresh PostgreSQL database
(created for the run, migrated, dropped afterwards) with the fixture sites and booking
switched on (10 counters at the town hall, a long horizon). One client (Python threads,
one keep-alive connection each) measures, interleaved in every round:
  1. baseline: GET /healthz/live, a bare Flask endpoint on the same server (no database);
  2. free slots: GET the day view of a random open day within the horizon (anonymous; each
     client thread sends back the session cookie it was given, as a browser does);
  2b. earliest: GET the earliest free times across the service's locations (anonymous, as 2);
  3. booking: POST a time on the day view (the hold; 303 to the reservation), every request
     from its own logged-in account for a different free time, so all should succeed;
  4. confirm: POST the reservation page of each of those holds (the second step, which books
     it, writes the inbox message and queues the mail), so that holds do not pile up.
The medians of the rounds count; the share of the baseline is the median of the per-round
ratios. A contended round then sends many requests for the same few times and counts who
got one and who was told "no longer free", and SQL over the tables counts double bookings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
sys.path.insert(0, str(ROOT))

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "bench-secret-" + "b" * 32
REDIS_URL = "redis://127.0.0.1:6379/13"
SLUG, SERVICE, LOCATION = "stadt", "personalausweis-beantragen", "rathaus"
DAY_PATH = f"/{SLUG}/termine/{SERVICE}/{LOCATION}/{{day}}/"
EARLIEST_PATH = f"/{SLUG}/termine/{SERVICE}/frueheste-zeiten/"
COUNTERS = 10
GONE = b"Dieser Termin ist leider nicht mehr frei."
TARGETS = {"free slots": 0.50, "booking": 0.25}
LOG_LINE = re.compile(r" (GET|POST) (\S+) (\d{3}) ([\d.]+)ms$")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


# ---------------------------------------------------------------- the load generator


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    visitor: bool = False  # sends back the session cookie this thread was given, as a browser does


@dataclass(frozen=True)
class Outcome:
    status: int  # 0: no answer (connection failed twice)
    seconds: float
    location: str
    gone: bool  # the body says "no longer free"


@dataclass(frozen=True)
class Run:
    seconds: float
    outcomes: list[Outcome]

    @property
    def rps(self) -> float:
        return len(self.outcomes) / self.seconds

    @property
    def latencies(self) -> list[float]:
        return [o.seconds for o in self.outcomes]


def fire(port: int, requests: list[Request], threads: int) -> Run:
    """Send `requests` from `threads` threads, each on its own keep-alive connection
    (opened before the clock starts); return the wall time and every outcome."""
    outcomes: list[Outcome | None] = [None] * len(requests)
    queue = iter(range(len(requests)))
    lock = threading.Lock()
    ready = threading.Barrier(threads + 1)

    def send(connection: http.client.HTTPConnection, request: Request, jar: dict[str, str]) -> tuple[int, str, bytes]:
        headers = dict(request.headers)
        if request.visitor and "cookie" in jar:
            headers["Cookie"] = jar["cookie"]
        connection.request(request.method, request.path, body=request.body, headers=headers)
        response = connection.getresponse()
        cookie = response.getheader("Set-Cookie", "")
        if request.visitor and cookie.startswith("sitzung="):
            jar["cookie"] = cookie.split(";", 1)[0]
        return response.status, response.getheader("Location", ""), response.read()

    def worker() -> None:
        jar: dict[str, str] = {}
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        connection.connect()
        ready.wait()
        while True:
            with lock:
                index = next(queue, None)
            if index is None:
                break
            request = requests[index]
            started = time.perf_counter()
            try:
                status, location, body = send(connection, request, jar)
            except (http.client.HTTPException, OSError):
                connection.close()  # the server closed an idle connection: once more on a new one
                try:
                    status, location, body = send(connection, request, jar)
                except (http.client.HTTPException, OSError):
                    connection.close()
                    status, location, body = 0, "", b""
            outcomes[index] = Outcome(status, time.perf_counter() - started, location, GONE in body)
        connection.close()

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    return Run(time.perf_counter() - started, [o for o in outcomes if o is not None])


# ---------------------------------------------------------------- the server and its data


def katalog_with_booking(out: Path, days_ahead: int) -> Path:
    """The fixture sites, built, with booking switched on (tests/dynamic/booking_fixtures.py),
    the town hall raised to COUNTERS counters and a horizon of `days_ahead` days."""
    from generator.pipeline import build
    from tests.conftest import FIXTURE_CONTENT
    from tests.dynamic.booking_fixtures import with_booking

    built, output = out / "built", out / "output"
    shutil.rmtree(built, ignore_errors=True)
    shutil.rmtree(output, ignore_errors=True)
    build(FIXTURE_CONTENT, built, show_progress=False)
    with_booking(built, output)
    path = output / SLUG / "katalog.json"
    katalog = json.loads(path.read_text(encoding="utf-8"))
    katalog["locations"][LOCATION]["booking"].update(counters=COUNTERS, days_ahead=days_ahead)
    path.write_text(json.dumps(katalog), encoding="utf-8")
    return output


def slot_times(output: Path) -> dict[dt.date, list[dt.datetime]]:
    """Every bookable start time (UTC) of the ID card at the town hall, by local day, from
    tomorrow to the horizon (today's times run out during the run)."""
    import katalog
    from dynamic.appointments.booking import offer_of
    from dynamic.appointments.slots import bookable_days, free_slots
    from dynamic.platform.models import utcnow

    offer = offer_of(katalog.read(output / SLUG / katalog.FILE_NAME), SERVICE, LOCATION)
    assert offer is not None
    now = utcnow()
    days = bookable_days(offer.schedule, now)[1:]
    found = {day: [s.start for s in free_slots(offer.schedule, day, offer.duration, set(), now)] for day in days}
    return {day: times for day, times in found.items() if times}


@contextmanager
def fresh_database() -> Iterator[str]:
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from dynamic.platform.db import make_engine

    admin = make_engine(POSTGRES_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        sys.exit(f"PostgreSQL is needed (TEST_POSTGRES_URL, default {POSTGRES_ADMIN_URL}): {error.orig}")
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def logins(env: dict[str, str], count: int) -> list[tuple[str, str]]:
    """`count` accounts, each logged in (level basis): (session cookie, CSRF token) per account,
    signed as the app signs them."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    from dynamic import create_app
    from dynamic.platform.auth import token_hash
    from dynamic.platform.config import settings_from_env
    from dynamic.platform.db import session_scope
    from dynamic.platform.models import Account, LoginSession, utcnow

    app = create_app(settings_from_env(env))
    signer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    found = []
    with session_scope(app) as db_session:
        accounts = [Account(email=f"buerger{n}@example.org", email_confirmed_at=utcnow()) for n in range(count)]
        db_session.add_all(accounts)
        db_session.flush()
        tokens = [secrets.token_urlsafe(16) for _ in accounts]
        db_session.add_all(LoginSession(token_hash=token_hash(token), account_id=account.id, level="basis",
                                        means="konto") for token, account in zip(tokens, accounts, strict=True))
        db_session.commit()
    for token in tokens:
        with app.test_request_context("/"):
            session["sid"] = token
            csrf = generate_csrf()
            found.append((signer.dumps(dict(session)), csrf))
    app.extensions["db_engine"].dispose()
    return found


@contextmanager
def gunicorn(env: dict[str, str], worker_class: str, workers: int, threads: int, log: Path) -> Iterator[int]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "gunicorn", "-k", worker_class, "-w", str(workers), "--backlog", "2048",
               "-b", f"127.0.0.1:{port}", "dynamic.wsgi:app"]
    if worker_class == "gthread":
        command[5:5] = ["--threads", str(threads)]
    with log.open("ab") as sink:
        server = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            if server.poll() is not None:
                sys.exit(f"gunicorn exited with {server.returncode}; see {log}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            sys.exit(f"gunicorn did not answer /healthz within a minute; see {log}")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def server_times(log: Path, start: int, end: int) -> list[float]:
    """Milliseconds the app itself spent on the requests it logged between two file offsets."""
    with log.open("rb") as handle:
        handle.seek(start)
        lines = handle.read(end - start).decode("utf-8", "replace").splitlines()
    return [float(m.group(4)) for line in lines if (m := LOG_LINE.search(line))]


# ---------------------------------------------------------------- double bookings


DOUBLE_BOOKING_SQL = {
    "pairs of appointments overlapping on one counter": """
        SELECT count(*) FROM appointments a JOIN appointments b
          ON a.slug = b.slug AND a.location_id = b.location_id AND a.counter = b.counter AND a.id < b.id
         AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
         WHERE a.status <> 'cancelled' AND b.status <> 'cancelled'""",
    "units claimed more than once": """
        SELECT count(*) FROM (SELECT 1 FROM slot_claims GROUP BY slug, location_id, counter, unit_start
                              HAVING count(*) > 1) AS twice""",
    "appointments at a time with more appointments than counters": """
        SELECT count(*) FROM appointments a
         WHERE a.status <> 'cancelled' AND (
               SELECT count(*) FROM appointments b
                WHERE b.status <> 'cancelled' AND b.slug = a.slug AND b.location_id = a.location_id
                  AND b.starts_at <= a.starts_at AND a.starts_at < b.ends_at) > :counters""",
}
UNCLAIMED_SQL = """
    SELECT count(*) FROM appointments a
     WHERE a.status <> 'cancelled' AND (
           SELECT count(*) FROM slot_claims c
            WHERE c.appointment_id = a.id AND c.counter = a.counter
              AND c.unit_start >= a.starts_at AND c.unit_start < a.ends_at)
           <> EXTRACT(EPOCH FROM a.ends_at - a.starts_at) / 300"""


def double_bookings(database_url: str) -> tuple[dict[str, int], int, int]:
    """The counts of DOUBLE_BOOKING_SQL, the appointments whose claims do not cover their
    time, and the number of appointments."""
    from sqlalchemy import text

    from dynamic.platform.db import make_engine

    engine = make_engine(database_url)
    with engine.connect() as connection:
        found = {name: int(connection.execute(text(sql), {"counters": COUNTERS}).scalar_one())
                 for name, sql in DOUBLE_BOOKING_SQL.items()}
        unclaimed = int(connection.execute(text(UNCLAIMED_SQL)).scalar_one())
        total = int(connection.execute(text("SELECT count(*) FROM appointments")).scalar_one())
    engine.dispose()
    return found, unclaimed, total


# ---------------------------------------------------------------- the benchmark


def booking_request(login: tuple[str, str], start: dt.datetime) -> Request:
    from dynamic.appointments.slots import local_day

    cookie, csrf = login
    body = urlencode({"csrf_token": csrf, "personen": "1", "zeit": start.isoformat()}).encode()
    return Request("POST", DAY_PATH.format(day=local_day(start).isoformat()), body,
                   (("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", f"sitzung={cookie}")))


def confirm_request(login: tuple[str, str], reservation: str) -> Request:
    cookie, csrf = login
    return Request("POST", reservation, urlencode({"csrf_token": csrf}).encode(),
                   (("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", f"sitzung={cookie}")))


def confirmed(outcome: Outcome) -> bool:
    return outcome.status == 303 and f"/{SLUG}/termine/termin/" in outcome.location and "hinweis=gebucht" in outcome.location


def booked(outcome: Outcome) -> bool:
    return outcome.status == 303 and f"/{SLUG}/termine/reservierung/" in outcome.location


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="requests per kind and round (default 1000)")
    parser.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--contended", type=int, default=300,
                        help="requests of the contended round (default 300, for 3 times × 10 counters)")
    parser.add_argument("--worker-class", choices=("gthread", "sync"), default="gthread")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--worker-threads", type=int, default=4, help="threads per gthread worker (default 4)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100 requests, 2 rounds, 60 contended")
    parser.add_argument("--no-redis", action="store_true", help="run without Redis: no cached free-time pages")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.rounds, args.contended = 100, 2, 60
    if not 1 <= args.rounds < COUNTERS:
        parser.error(f"--rounds must be between 1 and {COUNTERS - 1}: each round books every time once more")

    from dynamic.platform.db import make_engine, migrate

    WORK.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="appointments-", dir=WORK))  # runs side by side do not collide
    # A week has 88 times (4 mornings of 18, one afternoon of 16); room for every round's
    # distinct times, the warm-up day and the contended day, holidays aside.
    days_ahead = max(60, 7 * (args.requests // 80 + 3))
    output = katalog_with_booking(work, days_ahead)
    times = slot_times(output)
    open_days = sorted(times)
    warm_day, contended_day = open_days[-2], open_days[-1]
    pool = [start for day in open_days[:-2] for start in times[day]]
    if len(pool) < args.requests:
        sys.exit(f"only {len(pool)} free times for {args.requests} requests per round")
    rng = random.Random(5)
    planned = rng.sample(pool, args.requests)  # each round books these times once more (next counter)
    contended_times = times[contended_day][:3]
    warm_bookings = 2 * args.threads

    log = work / "gunicorn.log"
    with fresh_database() as database_url:
        engine = make_engine(database_url)
        migrate(engine)
        engine.dispose()
        env = {"DATABASE_URL": database_url, "PORTAL_OUTPUT_DIR": str(output), "PORTAL_VAR_DIR": str(work / "var"),
               "SECRET_KEY": SECRET, "BOOKING_LIMIT_ADDRESS": "1000000/hour", "DEV_IDP": "0"}
        if not args.no_redis:  # as in production: Redis holds the versions of the cached free-time pages
            env["REDIS_URL"] = REDIS_URL
        accounts = iter(logins(env, args.rounds * args.requests + args.contended + warm_bookings))
        setting = (f"gunicorn {args.worker_class}, {args.workers} workers"
                   + (f" × {args.worker_threads} threads" if args.worker_class == "gthread" else "")
                   + (", no Redis (free-time pages computed every time)" if args.no_redis
                      else ", Redis (free-time pages cached per version)"))
        with gunicorn(env, args.worker_class, args.workers, args.worker_threads, log) as port:
            baseline = [Request("GET", "/healthz/live")] * args.requests

            def free_slot_requests() -> list[Request]:
                return [Request("GET", DAY_PATH.format(day=rng.choice(open_days).isoformat()), visitor=True)
                        for _ in range(args.requests)]

            # Warm-up: every worker imports, connects and compiles its templates.
            fire(port, baseline[:200], args.threads)
            fire(port, free_slot_requests()[:200], args.threads)
            fire(port, [booking_request(next(accounts), times[warm_day][n % len(times[warm_day])])
                        for n in range(warm_bookings)], args.threads)

            runs: dict[str, list[Run]] = {"baseline": [], "free slots": [], "earliest": [], "booking": [],
                                          "confirm": []}
            in_app: dict[str, list[float]] = {kind: [] for kind in runs}

            def measure(kind: str, requests: list[Request]) -> Run:
                before = log.stat().st_size
                run = fire(port, requests, args.threads)
                runs[kind].append(run)
                in_app[kind] += server_times(log, before, log.stat().st_size)
                return run

            for _ in range(args.rounds):
                measure("baseline", baseline)
                measure("free slots", free_slot_requests())
                measure("earliest", [Request("GET", EARLIEST_PATH, visitor=True)] * args.requests)
                mine = [next(accounts) for _ in planned]
                held = measure("booking", [booking_request(login, start) for login, start in zip(mine, planned, strict=True)])
                measure("confirm", [confirm_request(login, outcome.location)
                                    for login, outcome in zip(mine, held.outcomes, strict=True) if booked(outcome)])

            contended = [booking_request(next(accounts), contended_times[n % len(contended_times)])
                         for n in range(args.contended)]
            fight = fire(port, contended, max(args.threads, 32))

        found, unclaimed, total = double_bookings(database_url)

    print(f"appointments: {setting}, PostgreSQL (a fresh database), {os.cpu_count()} cores shared with the client")
    print(f"client: {args.threads} threads, one keep-alive connection each (http.client); {args.rounds} rounds of "
          f"{args.requests} requests per kind, interleaved; rps = median of the rounds, share = median of the "
          "per-round ratios to the baseline, latencies over all rounds")
    print()
    print(f"{'':34}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'in app':>9}{'share':>8}{'target':>8}  met  failed")
    for kind, label in (("baseline", "baseline   GET /healthz/live"), ("free slots", "free slots GET day view"),
                        ("earliest", "earliest   GET earliest times"), ("booking", "booking    POST a time (hold)"),
                        ("confirm", "confirm    POST the reservation")):
        rps = statistics.median(r.rps for r in runs[kind])
        latencies = [s * 1000 for r in runs[kind] for s in r.latencies]
        ok = {"booking": booked, "confirm": confirmed}.get(kind, lambda o: o.status == 200)
        failed = sum(not ok(o) for r in runs[kind] for o in r.outcomes)
        app_ms = statistics.median(in_app[kind]) if in_app[kind] else float("nan")
        if kind == "baseline":
            share_text, target_text, met_text = "", "", ""
        else:
            share = statistics.median(r.rps / b.rps for r, b in zip(runs[kind], runs["baseline"], strict=True))
            share_text, target_text, met_text = f"{share:.0%}", "", ""
            if kind in TARGETS:
                met = share >= TARGETS[kind] and failed == 0
                target_text, met_text = f"≥{TARGETS[kind]:.0%}", "yes" if met else "no"
        print(f"{label:34}{rps:8.0f}{statistics.median(latencies):9.1f}{percentile(latencies, 0.95):9.1f}"
              f"{app_ms:9.1f}{share_text:>8}{target_text:>8}  {met_text:3}  {failed}")
    print("(in app: median milliseconds between the app's first and last hook, from its request log)")
    print()
    won = sum(booked(o) for o in fight.outcomes)
    gone = sum(o.status == 409 and o.gone for o in fight.outcomes)
    other = Counter(o.status for o in fight.outcomes if not booked(o) and not (o.status == 409 and o.gone))
    places = len(contended_times) * COUNTERS
    print(f"contended round: {args.contended} requests from {max(args.threads, 32)} threads for "
          f"{len(contended_times)} times × {COUNTERS} counters ({places} places): {won} booked, "
          f"{gone} told \"no longer free\" (409), other answers: {dict(other) or 'none'}")
    doubles = sum(found.values())
    print(f"double bookings: {doubles}  (" + ", ".join(f"{name}: {n}" for name, n in found.items()) + ")")
    print(f"appointments whose claims do not cover their time: {unclaimed}; appointments in the database: {total}")
    if doubles or unclaimed or won != places or other:
        sys.exit(f"FAILED; the server's log is in {log}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
