"""Run the portal under gunicorn for a test, as in production."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.dynamic.test_serve import free_port

ROOT = Path(__file__).resolve().parent.parent.parent


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 4, threads: int = 8) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads), "--backlog", "512",
         "-b", f"127.0.0.1:{port}", "dynamic.wsgi:app"],
        env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(url + "/healthz", timeout=10).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                if server.poll() is not None:
                    pytest.fail(server.stdout.read() if server.stdout else "gunicorn exited")
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
