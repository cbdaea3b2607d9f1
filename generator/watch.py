"""Rebuild when content or templates change, for `build.py serve`.

Polls file sizes and modification times (no extra dependency; a scan of a few thousand
files takes milliseconds, ten times a second) and rebuilds in the same process, which keeps parsed and
validated files in memory, so an editor sees a change in about half a second.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import ContentError, PortalError

log = logging.getLogger(__name__)


def snapshot(folders: Iterable[Path]) -> frozenset[tuple[str, int, int]]:
    state = set()
    for folder in folders:
        for root, _dirs, files in os.walk(folder):
            for name in files:
                path = os.path.join(root, name)
                try:
                    stat = os.stat(path)
                except FileNotFoundError:
                    continue
                state.add((path, stat.st_mtime_ns, stat.st_size))
    return frozenset(state)


def watch(folders: list[Path], rebuild: Callable[[], object], stop: threading.Event, interval: float = 0.1) -> None:
    """Call rebuild after every change below folders until stop is set."""
    last = snapshot(folders)
    while not stop.wait(interval):
        current = snapshot(folders)
        if current == last:
            continue
        last = current
        started = time.perf_counter()
        try:
            rebuild()
        except ContentError as error:
            for problem in error.problems:
                print(problem, file=sys.stderr)
            print(f"{len(error.problems)} error(s); the sites stay as they were.", file=sys.stderr)
            continue
        except PortalError as error:
            print(f"build failed: {error}", file=sys.stderr)
            continue
        print(f"rebuilt in {time.perf_counter() - started:.2f} s", file=sys.stderr)


def start_watching(folders: list[Path], rebuild: Callable[[], object]) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=watch, args=(folders, rebuild, stop), name="content-watcher", daemon=True).start()
    return stop
