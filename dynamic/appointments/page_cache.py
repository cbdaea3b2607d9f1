"""Cached free-time pages: the day and month views rendered once per state, not per request.

Each day of a location has a version in Redis that every change of its claims on that day
bumps, after the change is committed; month pages follow a version of the whole location,
which every change bumps too. A page is cached under (path, query, version, minute), the
minute covering the lead time and expired holds: in the process's memory, and in Redis for
two minutes, so that one process renders a state and the others take it from there. The
CSRF token, the one per-browser part of the page, is rendered as a placeholder and filled
in per request. A change that frees time without a bump (an expired hold, a deleted
account) shows for at most a minute as taken, never the other way round; and the hold step
checks the database again in any case.

Without REDIS_URL nothing is cached: every page is computed from the database.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from typing import Any

from flask import Flask, current_app
from flask_wtf.csrf import generate_csrf

from ..platform import config

log = logging.getLogger(__name__)

PLACEHOLDER = "\x00csrf-token\x00"
ALL = "all"  # the scope of pages that show many days (the month calendar)
SIZE = 512
SHAREABLE = re.compile(r"[^?]*\?((monat|personen)=[0-9-]{1,7}(&(monat|personen)=[0-9-]{1,7})?)?\Z")


class SlotPages:
    def __init__(self, redis_url: str, prefix: str = "buergerportal") -> None:
        self.prefix = prefix
        self.redis = None
        if redis_url:
            import redis

            self.redis = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.pages: OrderedDict[tuple[str, ...], str] = OrderedDict()
        self.values: OrderedDict[tuple[str, ...], Any] = OrderedDict()
        self.lock = Lock()

    def _key(self, slug: str, location_id: str, scope: str) -> str:
        return f"{self.prefix}:slots:{slug}:{location_id}:{scope}"

    def version(self, slug: str, location_id: str, scope: str) -> str | None:
        if self.redis is None:
            return None
        try:
            value = self.redis.get(self._key(slug, location_id, scope))
        except Exception:  # noqa: BLE001 - without Redis the page is computed, never wrong
            log.warning("slot page cache: Redis unreachable, computing pages")
            return None
        return value.decode() if isinstance(value, bytes) else str(value or 0)

    def changed(self, slug: str, location_id: str, *days: dt.date) -> None:
        """Call after committing a change of the location's claims on `days`."""
        if self.redis is None:
            return
        try:
            pipeline = self.redis.pipeline(transaction=False)
            for scope in {ALL, *(day.isoformat() for day in days)}:
                pipeline.incr(self._key(slug, location_id, scope))
            pipeline.execute()
        except Exception:  # noqa: BLE001
            log.warning("slot page cache: could not bump a version; pages may lag by a minute")

    def page(self, slug: str, location_id: str, scope: str, address: str, minute: str,
             render: Callable[[Callable[[], str]], str]) -> str:
        """The page for `address` (path and query) showing `scope` (a day's ISO date, or ALL):
        cached, or rendered by `render`, which gets what stands in for csrf_token()."""
        version = self.version(slug, location_id, scope)
        if version is None:
            return render(generate_csrf)
        key = (slug, location_id, address, version, minute)
        with self.lock:
            html = self.pages.get(key)
            if html is not None:
                self.pages.move_to_end(key)
        if html is None:
            # Only the addresses a calendar links to are shared: any other query string would
            # let a client fill Redis with copies of a page.
            shared = f"{self._key(slug, location_id, scope)}:{version}:{minute}:{address}"
            html = self._shared(shared) if SHAREABLE.match(address) else None
            if html is None:
                html = render(lambda: PLACEHOLDER)
                if SHAREABLE.match(address):
                    self._share(shared, html)
            with self.lock:
                self.pages[key] = html
                while len(self.pages) > SIZE:
                    self.pages.popitem(last=False)
        return html.replace(PLACEHOLDER, generate_csrf()) if PLACEHOLDER in html else html

    def remembered(self, slug: str, location_id: str, name: str, minute: str, compute: Callable[[], Any]) -> Any:
        """A value computed from a location's free times (such as its earliest free time), kept
        in this process's memory for the location's current state (the version every change of
        its claims bumps) and minute, like the pages. Without Redis: computed every time."""
        version = self.version(slug, location_id, ALL)
        if version is None:
            return compute()
        key = (slug, location_id, name, version, minute)
        with self.lock:
            if key in self.values:
                self.values.move_to_end(key)
                return self.values[key]
        value = compute()
        with self.lock:
            self.values[key] = value
            while len(self.values) > SIZE:
                self.values.popitem(last=False)
        return value

    def _shared(self, key: str) -> str | None:
        assert self.redis is not None
        try:
            value = self.redis.get(key)
        except Exception:  # noqa: BLE001
            return None
        return value.decode() if isinstance(value, bytes) else None

    def _share(self, key: str, html: str) -> None:
        assert self.redis is not None
        try:
            self.redis.set(key, html.encode(), ex=120)
        except Exception:  # noqa: BLE001
            log.warning("slot page cache: could not share a page")


def init_app(app: Flask) -> None:
    settings = config.settings(app)
    app.extensions["slot_pages"] = SlotPages(settings.redis_url, settings.redis_prefix)


def slot_pages() -> SlotPages:
    pages: SlotPages = current_app.extensions["slot_pages"]
    return pages


def changed(slug: str, location_id: str, *days: dt.date) -> None:
    slot_pages().changed(slug, location_id, *days)
