"""For editors on `build.py serve --watch`: an open page reloads itself when its site is rebuilt.

A small script in every HTML page asks /_entwicklung/stand?kommune=<slug> about seven times
a second for its site's build number and reloads the page when it changed. The watcher
builds the site the editor looked at last first and calls `rebuilt(slug)` as soon as each
site is live, so the open page shows a change before the other sites are done. Only
registered by `build.py serve` with watching on, never in production.
"""

from __future__ import annotations

import re
import threading

from flask import Blueprint, Flask, Response, jsonify, request

live_reload = Blueprint("live_reload", __name__, url_prefix="/_entwicklung")

_lock = threading.Lock()
_numbers: dict[str, int] = {}  # site slug ("" for the portal's own pages) → build number
_viewed: list[str] = []  # the site an open page asked about last

SCRIPT = """// Reloads the page when build.py serve --watch has rebuilt the sites (local runs only).
(function () {
  var known = null;
  var site = window.location.pathname.split("/")[1] || "";
  function ask() {
    fetch("/_entwicklung/stand?kommune=" + encodeURIComponent(site), {cache: "no-store"})
    .then(function (r) { return r.json(); }).then(function (s) {
      if (known !== null && s.stand !== known) { window.location.reload(); }
      known = s.stand;
    }).catch(function () {}).then(function () { window.setTimeout(ask, 150); });
  }
  ask();
})();
"""
TAG = b'<script src="/_entwicklung/neu-laden.js" defer></script>'


def rebuilt(slug: str) -> None:
    """Call when `slug`'s site is live after a rebuild (the portal's own pages count too)."""
    with _lock:
        for key in (slug, ""):
            _numbers[key] = _numbers.get(key, 0) + 1


def viewed() -> str | None:
    """The site whose page asked last, to be rebuilt first."""
    with _lock:
        return _viewed[-1] if _viewed else None


@live_reload.get("/stand")
def state() -> Response:
    site = request.args.get("kommune", "")
    if not re.fullmatch(r"[a-z0-9-]{0,60}", site):
        site = ""
    with _lock:
        if site:
            _viewed[:] = [site]
        number = _numbers.get(site, 0)
    response = jsonify(stand=number)
    response.headers["Cache-Control"] = "no-store"
    return response


@live_reload.get("/neu-laden.js")
def script() -> Response:
    return Response(SCRIPT, mimetype="text/javascript", headers={"Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    app.register_blueprint(live_reload)

    @app.after_request
    def _inject(response: Response) -> Response:
        if response.mimetype != "text/html" or response.status_code != 200:
            return response
        response.direct_passthrough = False  # static pages come as files: read them to add the tag
        body = response.get_data()
        if b"</head>" in body and TAG not in body:
            response.set_data(body.replace(b"</head>", TAG + b"</head>", 1))
            response.headers["Cache-Control"] = "no-store"
        return response
