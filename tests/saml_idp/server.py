"""SimpleSAMLphp run by PHP's built-in web server on 127.0.0.1, and its login driven over HTTP
the way a browser without JavaScript would: follow the SP's redirect, fill in the login form,
and read the form that would post the answer back to the service provider."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import requests

from .config import BUNDID, Options, key_pair, write_config
from .persons import PERSONS, Person

SIMPLESAMLPHP = Path(os.environ.get("SIMPLESAMLPHP_ROOT", "/usr/share/simplesamlphp"))
PHP = "php"
STARTUP_SECONDS = 15.0
TIMEOUT = 10.0


class SimpleSamlPhpMissing(RuntimeError):  # noqa: N818 - the test decides: skip, or in CI fail
    """php or SimpleSAMLphp is not installed here."""


def missing() -> str | None:
    """Why SimpleSAMLphp cannot run here, or None when it can."""
    if shutil.which(PHP) is None:
        return "php is not installed (Debian: php-cli php-xml; ./dev setup installs them)"
    if not (SIMPLESAMLPHP / "www" / "saml2" / "idp" / "SSOService.php").is_file():
        return f"SimpleSAMLphp is not installed under {SIMPLESAMLPHP} (Debian: simplesamlphp)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append(Form(urljoin(self.url, a.get("action") or self.url), (a.get("method") or "get").lower()))
        elif tag in ("input", "button") and self.forms and a.get("name") \
                and a.get("type", "text") not in ("submit", "checkbox", "radio"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")


def forms_of(html: str, url: str) -> list[Form]:
    parser = _Forms(url)
    parser.feed(html)
    return parser.forms


class SimpleSamlPhp:
    """One SimpleSAMLphp identity provider in its own process and configuration folder.

    `entity_id` defaults to its metadata address; an impostor passes the genuine one's, with
    its own key (`keys`) or without signatures (`options`).
    """

    def __init__(self, folder: Path, sp_metadata: str, *, persons: tuple[Person, ...] = PERSONS,
                 entity_id: str | None = None, options: Options = BUNDID,
                 keys: tuple[bytes, bytes] | None = None) -> None:
        self.folder = folder
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.entity_id = entity_id or f"{self.base_url}/saml2/idp/metadata.php"
        self.keys = keys or key_pair("SimpleSAMLphp Test-IdP")
        self.persons = {person.username: person for person in persons}
        write_config(folder, base_url=self.base_url, entity_id=self.entity_id, persons=persons,
                     sp_metadata=sp_metadata, keys=self.keys, options=options)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/saml2/idp/metadata.php"

    @property
    def log(self) -> str:
        """What SimpleSAMLphp and the PHP server wrote, for a failing test's message."""
        parts = [path.read_text(encoding="utf-8", errors="replace")
                 for path in (self.folder / "log" / "simplesamlphp.log", self.folder / "php-server.log")
                 if path.is_file()]
        return "\n".join(parts)[-6000:]

    def start(self) -> SimpleSamlPhp:
        reason = missing()
        if reason:
            raise SimpleSamlPhpMissing(reason)
        environment = {**os.environ, "SIMPLESAMLPHP_CONFIG_DIR": str(self.folder)}
        with (self.folder / "php-server.log").open("wb") as output:
            self.process = subprocess.Popen(
                [PHP, "-S", f"127.0.0.1:{self.port}", "-t", str(SIMPLESAMLPHP / "www")],
                cwd=SIMPLESAMLPHP / "www", env=environment, stdout=output, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"SimpleSAMLphp's PHP server ended at once:\n{self.log}")
            try:
                if requests.get(self.metadata_url, timeout=TIMEOUT).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"SimpleSAMLphp did not answer within {STARTUP_SECONDS} s:\n{self.log}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> SimpleSamlPhp:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def metadata(self) -> str:
        """The identity provider's metadata as it publishes it."""
        answer = requests.get(self.metadata_url, timeout=TIMEOUT)
        answer.raise_for_status()
        return answer.text

    def write_metadata(self, target: Path) -> Path:
        target.write_text(self.metadata(), encoding="utf-8")
        return target

    def login(self, authn_request: str | Form, person: Person | str) -> Form:
        """Bring the service provider's AuthnRequest to SimpleSAMLphp in a fresh browser (a
        redirect address: HTTP-Redirect binding; a form: HTTP-POST binding), log in as
        `person` at the login form, and return the form that carries the answer
        (SAMLResponse) to the service provider's ACS."""
        chosen = self.persons[person] if isinstance(person, str) else person
        browser = requests.Session()
        if isinstance(authn_request, Form):
            page = browser.post(authn_request.action, data=authn_request.fields, timeout=TIMEOUT)
        else:
            page = browser.get(authn_request, timeout=TIMEOUT)
        login = next((form for form in forms_of(page.text, page.url) if "AuthState" in form.fields), None)
        if page.status_code != 200 or login is None:
            raise AssertionError(f"no login form at SimpleSAMLphp ({page.status_code} {page.url}):\n"
                                 f"{page.text[:2000]}\n{self.log}")
        page = browser.post(login.action, data={**login.fields, "username": chosen.username,
                                                "password": chosen.password}, timeout=TIMEOUT)
        answer = next((form for form in forms_of(page.text, page.url) if "SAMLResponse" in form.fields), None)
        if page.status_code != 200 or answer is None:
            raise AssertionError(f"no answer from SimpleSAMLphp ({page.status_code} {page.url}):\n"
                                 f"{page.text[:2000]}\n{self.log}")
        return answer
