"""`build.py serve`: run the app on the local machine."""

from __future__ import annotations

import logging
from pathlib import Path

from . import create_app

log = logging.getLogger(__name__)


def serve(output_dir: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    from werkzeug.serving import run_simple

    app = create_app({"OUTPUT_DIR": output_dir})
    print(f"Bürgerportal läuft auf http://{host}:{port}/  (Strg+C beendet)")
    run_simple(host, port, app, threaded=True, use_reloader=False)
