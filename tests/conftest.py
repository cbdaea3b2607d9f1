"""Shared fixtures: content trees, built sites, a local HTTP server and a browser."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.pipeline import build

ROOT = Path(__file__).resolve().parent.parent
JOURNEYS = ROOT / "tests" / "journeys"
FIXTURE_CONTENT = ROOT / "tests" / "fixtures" / "content"
REAL_CONTENT = ROOT / "content"
TODAY = dt.date(2026, 11, 29)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """For `pytest -n 2 --dist loadgroup` (./dev test): each file runs whole on one worker, so
    its module fixtures are made once; the journeys all share one `build.py serve` (two
    portals at once, each with its browsers, overload two cores). The journeys go first,
    being the longest group: the other worker meanwhile takes the rest, and neither is left
    alone at the end with a long tail."""

    def journey(item: pytest.Item) -> bool:
        return JOURNEYS in Path(str(item.path)).parents

    for item in items:
        group = "journeys" if journey(item) else str(Path(str(item.path)).relative_to(ROOT))
        item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: not journey(item))  # stable: the files keep their order otherwise


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A writable copy of the small fixture knowledge base, in a folder named content/."""
    target = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, target)
    return target


@pytest.fixture(scope="session")
def real_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real content, built once for the whole session."""
    out = tmp_path_factory.mktemp("real") / "output"
    build(REAL_CONTENT, out, today=TODAY, show_progress=False)
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server(real_output: Path) -> Iterator[str]:
    """The portal app serving the real build on a free local port."""
    from werkzeug.serving import make_server

    from dynamic import create_app
    from dynamic.platform.config import settings_from_env
    from dynamic.serve import migrate_database

    port = _free_port()
    settings = {"output_dir": real_output, "var_dir": real_output.parent / "var", "base_url": f"http://127.0.0.1:{port}"}
    migrate_database(**settings)
    httpd = make_server("127.0.0.1", port, create_app(settings_from_env({}, **settings)), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run ./dev setup (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
