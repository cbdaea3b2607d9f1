#!/usr/bin/env python3
"""How fast an editor sees a change: `build.py serve --watch` on a copy of the real content,
a service page open in Debian's chromium, and one edit of the service's YAML after another.

    python bench/live_reload.py [--edits 8]

For every edit it measures, from the moment the file is written:
  1. served: until the server hands out the new page (HTTP polling every 20 ms), the
     baseline: the watcher's rebuild;
  2. shown: until the open page shows the new heading by itself (the page's reload script).
It prints median and maximum of both; the target is that an editor sees the change within
a second.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
SERVICE = "content/services/kindergeld.yaml"
PAGE = "/muenster/leistungen/kindergeld/"
TARGET_SECONDS = 1.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edits", type=int, default=8)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="live-reload-"))
    shutil.copytree(ROOT / "content", work / "content")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "build.py"), "serve", "--watch", "--port", str(port),
         "--content", str(work / "content"), "--out", str(work / "output")],
        env={**os.environ, "PORTAL_VAR_DIR": str(work / "var")}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}{PAGE}"
    served: list[float] = []
    shown: list[float] = []
    try:
        for _ in range(1200):
            try:
                if requests.get(url, timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        path = work / SERVICE
        original = path.read_text(encoding="utf-8")
        name = next(line for line in original.splitlines() if line.startswith("name: "))[6:]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu",
                                                       "--disable-background-networking"])
            tab = browser.new_page()
            tab.goto(url)
            for number in range(1, args.edits + 1):
                time.sleep(1.0)  # the page has settled and asked for the build number
                heading = f"{name} ({number}. Fassung)"
                path.write_text(original.replace(f"name: {name}", f"name: {heading}", 1), encoding="utf-8")
                written = time.perf_counter()
                while f"<h1>{heading}</h1>" not in requests.get(url, timeout=5).text:
                    time.sleep(0.02)
                served.append(time.perf_counter() - written)
                tab.locator("h1", has_text=heading).wait_for(timeout=30000)
                shown.append(time.perf_counter() - written)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)

    print(f"live reload: build.py serve --watch on the real content, {args.edits} edits of {SERVICE}, "
          f"page {PAGE} open in chromium")
    print(f"{'':28}{'median s':>10}{'max s':>10}")
    print(f"{'served (rebuild, baseline)':28}{statistics.median(served):10.2f}{max(served):10.2f}")
    print(f"{'shown in the open page':28}{statistics.median(shown):10.2f}{max(shown):10.2f}")
    met = statistics.median(shown) <= TARGET_SECONDS
    print(f"target: the change shows within {TARGET_SECONDS:.0f} s (median): {'met' if met else 'not met'}")


if __name__ == "__main__":
    main()
