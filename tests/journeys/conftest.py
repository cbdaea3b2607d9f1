"""The whole portal as `build.py serve` runs it (the real content, all four municipalities,
the embedded SQLite database, mail into var/mail, the development identity provider and
the local offices' keys), shared by every journey of this folder."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ROOT, _free_port

STARTUP_SECONDS = 180   # a cold build of every site on a busy two-core machine
PASSWORD = "Umzugskarton Gießkanne Leuchtturm"
STAFF_PASSWORD = "Stempelkissen Aktenordner Kaffeetasse"


@dataclass
class Portal:
    url: str
    out: Path
    var: Path
    env: dict[str, str]
    _app: Any = field(default=None, repr=False)

    @property
    def app(self) -> Any:
        """An app on the same database and output as the server, for what a journey needs to
        exist before it starts (a citizen's account, a clerk's bookings of the day)."""
        if self._app is None:
            from dynamic import create_app
            from dynamic.platform.config import settings_from_env

            self._app = create_app(settings_from_env({}, output_dir=self.out, var_dir=self.var,
                                                     base_url=self.url))
        return self._app

    def katalog(self, slug: str) -> dict[str, Any]:
        return dict(json.loads((self.out / slug / "katalog.json").read_text(encoding="utf-8")))

    def citizen(self, address: str) -> str:
        """A confirmed portal account (e-mail and password) that a citizen made earlier."""
        from tests.dynamic.test_profile import make_account

        make_account(self.app, email=address, password=PASSWORD)
        return address

    def mail(self, address: str, subject: str, timeout: float = 20) -> EmailMessage:
        """The newest mail with this subject that the outbox worker wrote for `address` into
        var/mail; waits for it."""
        deadline = time.monotonic() + timeout
        while True:
            for path in sorted((self.var / "mail").glob("*.eml"), key=lambda p: p.stat().st_mtime_ns, reverse=True):
                message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                if message["To"] == address and message["Subject"] == subject:
                    return message  # type: ignore[return-value]
            assert time.monotonic() < deadline, f"no mail „{subject}“ to {address}"
            time.sleep(0.2)

    def office(self, slug: str, unit: str) -> tuple[str, Path]:
        """The token and private key that `build.py serve` gave a receiving office."""
        folder = self.var / "offices" / slug / unit
        return (folder / "token").read_text(encoding="utf-8").strip(), folder / "private.jwk"

    def run(self, *args: str, stdin: str | None = None, extra_env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        """A command on the portal's machine, with the portal's environment."""
        done = subprocess.run([sys.executable, *args], cwd=ROOT, env={**self.env, **(extra_env or {})},
                              input=stdin, capture_output=True, text=True, timeout=120)
        if check:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    def today(self) -> dt.date:
        from dynamic.appointments.slots import local_day
        from dynamic.platform.models import utcnow

        return local_day(utcnow())


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    root = tmp_path_factory.mktemp("portal")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(PORTAL_VAR_DIR=str(root / "var"), PYTHONUNBUFFERED="1")
    log = (root / "serve.log").open("w", encoding="utf-8")
    process = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "serve", "--port", str(port),
                                "--out", str(root / "output"), "--base-url", url],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        while True:
            try:
                if requests.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("build.py serve did not start:\n" + (root / "serve.log").read_text(encoding="utf-8"))
            time.sleep(0.3)
        portal = Portal(url, root / "output", root / "var", env)
        yield portal
        if portal._app is not None:
            portal._app.extensions["db_engine"].dispose()
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def clerks(portal: Portal) -> dict[str, str]:
    """A clerk's login in each municipality, made as the IT provider makes it; slug → username."""
    from tests.journeys.steps import SITES

    for slug in SITES:
        done = portal.run("build.py", "staff", slug, "schalter", "--name", "Sam Schalter", "--out", str(portal.out),
                          extra_env={"STAFF_PASSWORD": STAFF_PASSWORD})
        assert done.stdout.startswith("Zugang „schalter“ für ")
    return {slug: "schalter" for slug in SITES}
