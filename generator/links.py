"""Check the external links of the content (build.py check --links).

Every https address in the YAML files (URL fields and links inside Markdown text) and in
the Markdown pages and news is asked, concurrently, with HEAD and, where a server refuses
HEAD, with GET. Timeouts, connection errors and 5xx answers are asked once more. Results
are kept in a cache file for some hours, so a second run asks only what is new.

A dead link (a 4xx answer) and a host that cannot be reached (flaky) are warnings; they
fail the check only with --strict-links. Only https links are checked: the content has
no others. Tests point links at a local server through allow_local_http.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import requests

from .errors import Problem
from .load import Document, Loc, _dotted, load_content

State = Literal["ok", "dead", "flaky"]
WORKERS = 8
TIMEOUT = 10.0
CACHE_HOURS = 24.0
CACHE_VERSION = 1
USER_AGENT = "Mozilla/5.0 (compatible; buergerportal-linkcheck/1.0)"

# An address runs to the first space, quote, angle bracket, square bracket or pipe; a
# trailing ')' is cut when it closes a Markdown link or a remark in parentheses.
_URL_BODY = r"[^\s<>\"'`\[\]|]+"
HTTPS_URL = re.compile(r"https://" + _URL_BODY)
LOCAL_URL = re.compile(r"https://" + _URL_BODY + r"|http://127\.0\.0\.1(?::[0-9]+)?(?:/" + _URL_BODY + ")?")
TRAILING = ".,;:!?*_"


@dataclass(frozen=True, order=True)
class LinkUse:
    """One link in one place of the content."""

    path: str  # content/services/x.yaml
    line: int
    field: str  # online.url; empty in a Markdown page
    url: str


@dataclass(frozen=True)
class LinkResult:
    url: str
    state: State
    reason: str  # "answered 404", "did not answer within 10 s", …
    status: int | None = None
    checked: float = 0.0  # time.time() of the answer


@dataclass
class LinkReport:
    links: int = 0  # distinct addresses
    asked: int = 0  # of them asked now (the others came from the cache)
    dead: list[Problem] = field(default_factory=list)
    flaky: list[Problem] = field(default_factory=list)


def allowed(url: str, allow_local_http: bool = False) -> bool:
    if allow_local_http and re.match(r"http://127\.0\.0\.1(:[0-9]+)?(/|$)", url):
        return True
    return url.startswith("https://")


def urls_in(text: str, allow_local_http: bool = False) -> list[str]:
    found = []
    for match in (LOCAL_URL if allow_local_http else HTTPS_URL).finditer(text):
        url = match.group(0)
        while url and (url[-1] in TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
            url = url[:-1]
        if len(url) > len("https://"):
            found.append(url)
    return found


# --- where the links are ------------------------------------------------------------------


def _strings(data: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(value, loc + (key if isinstance(key, str | int) else str(key),))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _strings(value, loc + (index,))


def _links_in_document(doc: Document, allow_local_http: bool) -> list[LinkUse]:
    uses: list[LinkUse] = []
    lines: list[str] | None = None
    for loc, text in _strings(doc.data, ()):
        for url in urls_in(text, allow_local_http):
            if lines is None:
                lines = doc.path.read_text(encoding="utf-8").splitlines()
            start = doc.line_of(loc)
            # A block of Markdown text starts at its key; the link may stand further down.
            line = next((n for n in range(start, len(lines) + 1) if url in lines[n - 1]), start)
            uses.append(LinkUse(doc.rel, line, _dotted(loc), url))
    return uses


def _links_in_markdown(path: Path, rel: str, allow_local_http: bool) -> list[LinkUse]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return [
        LinkUse(rel, number, "", url)
        for number, line in enumerate(text.splitlines(), start=1)
        for url in urls_in(line, allow_local_http)
    ]


def find_links(content_dir: Path, allow_local_http: bool = False) -> list[LinkUse]:
    """Every external link of the content, with file, line and field.

    allow_local_http (tests only) also finds http://127.0.0.1 links.
    """
    raw, _ = load_content(content_dir)
    docs: list[Document] = [*raw.services, *raw.life_situations, *raw.forms]
    if raw.everyday_words is not None:
        docs.append(raw.everyday_words)
    uses: list[LinkUse] = []
    for files in raw.municipalities:
        if files.municipality is not None:
            docs.append(files.municipality)
        docs += [*files.units, *files.locations, *files.contacts, *files.services]
        for md in [*files.news, *files.pages]:
            uses += _links_in_markdown(md.path, md.rel, allow_local_http)
    for doc in docs:
        uses += _links_in_document(doc, allow_local_http)
    return sorted(uses)


# --- asking the servers -------------------------------------------------------------------


class _Sessions:
    """One requests session per worker thread (a session is not shared between threads)."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.all: list[requests.Session] = []
        self.lock = threading.Lock()

    def get(self) -> requests.Session:
        session: requests.Session | None = getattr(self.local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            self.local.session = session
            with self.lock:
                self.all.append(session)
        return session

    def close(self) -> None:
        for session in self.all:
            session.close()


def probe(url: str, session: requests.Session, timeout: float = TIMEOUT, pause: float = 1.0) -> LinkResult:
    """HEAD, then GET when HEAD is refused; once more after a timeout, connection error or 5xx."""
    result = LinkResult(url, "flaky", "was not asked")
    for attempt in range(2):
        if attempt:
            time.sleep(pause)
        try:
            response = session.head(url, allow_redirects=True, timeout=timeout)
            response.close()
            if response.status_code >= 400:  # some servers refuse or mishandle HEAD: ask with GET
                response = session.get(url, allow_redirects=True, timeout=timeout, stream=True)
                response.close()
        except requests.Timeout:
            result = LinkResult(url, "flaky", f"did not answer within {timeout:g} s")
            continue
        except requests.ConnectionError as error:
            result = LinkResult(url, "flaky", f"could not be reached ({_short(error)})")
            continue
        except requests.RequestException as error:  # too many redirects, an invalid address
            return LinkResult(url, "dead", f"could not be followed ({_short(error)})", checked=time.time())
        status = response.status_code
        if status >= 500 or status == 429:
            result = LinkResult(url, "flaky", f"answered {status}", status)
            continue
        return LinkResult(url, "ok" if status < 400 else "dead", f"answered {status}", status, time.time())
    return result


def _short(error: Exception) -> str:
    """The reason in a requests error, without urllib3's wrapping."""
    text = str(error) or error.__class__.__name__
    for pattern in (r"\[Errno -?\d+\] ([^'\")]+)", r"Caused by (\w+)"):
        reason = re.search(pattern, text)
        if reason:
            return reason.group(1).strip()
    return text[:120]


def _load_cache(file: Path | None) -> dict[str, LinkResult]:
    if file is None or not file.is_file():
        return {}
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if data.get("version") != CACHE_VERSION:
            return {}
        return {url: LinkResult(**entry) for url, entry in data["links"].items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def _save_cache(file: Path, results: dict[str, LinkResult]) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    temporary = file.with_suffix(".tmp")
    entries = {url: asdict(result) for url, result in sorted(results.items())}
    temporary.write_text(json.dumps({"version": CACHE_VERSION, "links": entries}, indent=1), encoding="utf-8")
    temporary.replace(file)


def check_urls(
    urls: Iterable[str],
    *,
    timeout: float = TIMEOUT,
    workers: int = WORKERS,
    cache_file: Path | None = None,
    max_age_hours: float = CACHE_HOURS,
    pause: float = 1.0,
    allow_local_http: bool = False,
) -> tuple[dict[str, LinkResult], int]:
    """The result for every address, and how many were asked now (not from the cache).

    Clear answers (ok, dead) are cached for max_age_hours; flaky ones are asked again.
    """
    wanted = sorted(set(urls))
    refused = [url for url in wanted if not allowed(url, allow_local_http)]
    if refused:
        raise ValueError(f"only https links are checked, not {refused[0]}")
    now = time.time()
    cache = _load_cache(cache_file)
    fresh = {url: r for url, r in cache.items() if r.state != "flaky" and now - r.checked < max_age_hours * 3600}
    results = {url: fresh[url] for url in wanted if url in fresh}
    ask = [url for url in wanted if url not in results]
    if ask:
        sessions = _Sessions()
        try:
            with ThreadPoolExecutor(max_workers=max(1, min(workers, len(ask)))) as pool:
                answers = pool.map(lambda url: probe(url, sessions.get(), timeout, pause), ask)
                results.update((result.url, result) for result in answers)
        finally:
            sessions.close()
    if cache_file is not None:
        keep = {url: r for url, r in {**fresh, **results}.items() if r.state != "flaky"}
        _save_cache(cache_file, keep)
    return results, len(ask)


def check_links(
    content_dir: Path,
    *,
    cache_file: Path | None = None,
    max_age_hours: float = CACHE_HOURS,
    timeout: float = TIMEOUT,
    workers: int = WORKERS,
    pause: float = 1.0,
    allow_local_http: bool = False,
) -> LinkReport:
    """Find and ask every link of the content; a Problem for each use of a dead or flaky link."""
    uses = find_links(content_dir, allow_local_http)
    results, asked = check_urls(
        (use.url for use in uses),
        timeout=timeout,
        workers=workers,
        cache_file=cache_file,
        max_age_hours=max_age_hours,
        pause=pause,
        allow_local_http=allow_local_http,
    )
    report = LinkReport(links=len(results), asked=asked)
    for use in uses:
        result = results[use.url]
        if result.state != "ok":
            problem = Problem(use.path, use.line, use.field, f"link {use.url} {result.reason}")
            (report.dead if result.state == "dead" else report.flaky).append(problem)
    return report
