"""`build.py serve --watch`: an editor saves a YAML file and the page open in the browser
shows the change by itself."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.dynamic.test_serve import served  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


def test_the_open_page_reloads_itself_after_an_edit(browser: Any, served: str, content: Path) -> None:  # noqa: F811
    tab = browser.new_page()  # with the site's Content-Security-Policy: the reload script must obey it
    tab.goto(served + "/stadt/leistungen/kindergeld/")
    assert tab.locator("h1").inner_text() == "Kindergeld beantragen"
    time.sleep(1)  # the page's script has asked for the build number once
    path = content / "services" / "kindergeld.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("name: Kindergeld beantragen", "name: Kindergeld erhalten"),
                    encoding="utf-8")
    saved = time.monotonic()
    tab.locator("h1", has_text="Kindergeld erhalten").wait_for(timeout=20000)
    print(f"the change showed {time.monotonic() - saved:.2f} s after saving")
    tab.close()
