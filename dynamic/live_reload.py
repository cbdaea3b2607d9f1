"""For editors on `build.py serve --watch`: an open page reloads itself when a rebuild is done.

The watcher calls `rebuilt()` after every successful build; a small script in every HTML
page asks /_entwicklung/stand about seven times a second for the build number and reloads the page when
it changed. Only registered by `build.py serve` with watching on, never in production.
"""

from __future__ import annotations

import itertools
import threading

from flask import Blueprint, Flask, Response, jsonify

live_reload = Blueprint("live_reload", __name__, url_prefix="/_entwicklung")

_numbers = itertools.count(1)
_lock = threading.Lock()
_current = 0

SCRIPT = """// Reloads the page when build.py serve --watch has rebuilt the sites (local runs only).
(function () {
  var known = null;
  function ask() {
    fetch("/_entwicklung/stand", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (s) {
      if (known !== null && s.stand !== known) { window.location.reload(); }
      known = s.stand;
    }).catch(function () {}).then(function () { window.setTimeout(ask, 150); });
  }
  ask();
})();
"""
TAG = b'<script src="/_entwicklung/neu-laden.js" defer></script>'


def rebuilt() -> None:
    global _current
    with _lock:
        _current = next(_numbers)


@live_reload.get("/stand")
def state() -> Response:
    response = jsonify(stand=_current)
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
