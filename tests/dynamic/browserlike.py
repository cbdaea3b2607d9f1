"""A small form-filling client over Flask's test client: reads a page's forms the way a
browser would (hidden fields, CSRF token, defaults) and submits them, and checks that every
page it ends on reads as text (tests/site/readable.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.site import readable


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)
    ident: str | None = None


class _FormParser(HTMLParser):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.forms: list[Form] = []
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(urljoin(self.url, a.get("action") or self.url), (a.get("method") or "get").lower(),
                                   ident=a.get("id")))
        if not self.forms:
            return
        form = self.forms[-1]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    form.fields[name] = a.get("value", "on")
            elif kind == "submit":
                form.buttons.append((name, a.get("value", "")))
            else:
                form.fields[name] = a.get("value", "")
        elif tag == "button" and name:
            form.buttons.append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = name
            form.fields[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and ("selected" in a or self._select not in form.fields):
            form.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        if tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1].fields[self._textarea] += data


def forms(response: TestResponse, url: str = "http://localhost/") -> list[Form]:
    parser = _FormParser(url)
    parser.feed(response.get_data(as_text=True))
    return parser.forms


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Browser:
    """Follows redirects and submits forms like a browser without JavaScript."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.url = "http://localhost/"
        self.response: TestResponse | None = None

    @property
    def text(self) -> str:
        assert self.response is not None
        return self.response.get_data(as_text=True)

    @property
    def status(self) -> int:
        assert self.response is not None
        return self.response.status_code

    def _follow(self, response: TestResponse) -> TestResponse:
        for _ in range(10):
            if response.status_code not in (301, 302, 303, 307, 308):
                break
            self.url = urljoin(self.url, response.headers["Location"])
            response = self.client.get(path_of(self.url))
        self.response = response
        # A page of the portal; tests' own stub routes answer with bare text.
        document = str(response.get_data(as_text=True)) if str(response.headers.get(
            "Content-Type", "")).startswith("text/html") else ""
        if "<html" in document and (found := readable.problems(document)):
            raise AssertionError(f"{self.url} ({response.status_code}) does not read as text: {found}")
        return response

    def get(self, url: str) -> TestResponse:
        self.url = urljoin(self.url, url)
        return self._follow(self.client.get(path_of(self.url)))

    def form(self, index_or_action: int | str = 0) -> Form:
        assert self.response is not None
        found = forms(self.response, self.url)
        if isinstance(index_or_action, int):
            return found[index_or_action]
        for form in found:
            if urlsplit(form.action).path == index_or_action or form.ident == index_or_action:
                return form
        raise AssertionError(f"no form {index_or_action!r} on {self.url}: {[f.action for f in found]}")

    def submit(self, which: int | str = 0, button: str | None = None, **values: Any) -> TestResponse:
        form = self.form(which)
        data: dict[str, Any] = dict(form.fields)
        for key, value in values.items():
            key = key.replace("__", "-")
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        if button:
            data[button] = dict(form.buttons).get(button, "")
        self.url = form.action
        if form.method == "post":
            return self._follow(self.client.post(path_of(form.action), data=data))
        return self._follow(self.client.get(path_of(form.action), query_string=data))

    def post(self, url: str, data: dict[str, Any]) -> TestResponse:
        self.url = urljoin(self.url, url)
        return self._follow(self.client.post(path_of(self.url), data=data))
