"""The dynamic tier: a Flask app that, for now, serves the built static sites.

Login, appointments and forms join as blueprints of this app (see ARCHITECTURE.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from .security import add_security_headers
from .sites import sites


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, static_folder=None)
    app.config.update(OUTPUT_DIR=Path(__file__).resolve().parent.parent / "output")
    app.config.update(config or {})
    app.config["OUTPUT_DIR"] = Path(app.config["OUTPUT_DIR"]).resolve()
    app.after_request(add_security_headers)
    app.register_blueprint(sites)
    return app
