"""Rate limits (login attempts, registrations, resets, replies), shared through Redis when configured.

Without REDIS_URL the counters live in the process's memory, which is right for the local
single-process run; several gunicorn workers or machines need Redis so that they share them.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

if TYPE_CHECKING:
    from flask import Flask


class Limiter:
    def __init__(self, redis_url: str = "", namespace: str = "buergerportal") -> None:
        # In Redis every key starts with "<namespace>:limits" (REDIS_PREFIX), so installations
        # and test runs sharing a Redis database keep apart.
        self.storage = (storage_from_string(redis_url, key_prefix=f"{namespace}:limits") if redis_url
                        else storage_from_string("memory://"))
        self.strategy = MovingWindowRateLimiter(self.storage)
        self.namespace = namespace

    def _key(self, *parts: str) -> str:
        # Keys are hashed: an e-mail address or an IP address never lands in Redis as such.
        return hashlib.sha256("\0".join((self.namespace, *parts)).encode()).hexdigest()[:32]

    def allowed(self, rule: str, *parts: str) -> bool:
        """Is another attempt allowed (without counting one)?"""
        return bool(self.strategy.test(parse(rule), self._key(*parts)))

    def hit(self, rule: str, *parts: str) -> bool:
        """Count an attempt; False when the limit was already reached."""
        return bool(self.strategy.hit(parse(rule), self._key(*parts)))

    def reset(self, rule: str, *parts: str) -> None:
        item: RateLimitItem = parse(rule)
        self.storage.clear(item.key_for(self._key(*parts)))


# German names of the time units of a rule ("5/15 minutes"), for the message a citizen reads.
_UNITS = {"second": ("eine Sekunde", "Sekunden"), "minute": ("eine Minute", "Minuten"),
          "hour": ("eine Stunde", "Stunden"), "day": ("einen Tag", "Tage"), "month": ("einen Monat", "Monate"),
          "year": ("ein Jahr", "Jahre")}


def window(rule: str) -> str:
    """How long a citizen waits at most until the rule lets them try again: "15 Minuten", "eine Stunde"."""
    item: RateLimitItem = parse(rule)
    one, many = _UNITS[item.GRANULARITY.name]
    return one if item.multiples == 1 else f"{item.multiples} {many}"


def init_app(app: Flask, limiter: Limiter) -> None:
    app.extensions["limiter"] = limiter


def limiter() -> Limiter:
    """The running app's rate limiter."""
    from flask import current_app

    found: Limiter = current_app.extensions["limiter"]
    return found
