"""`build.py serve`: migrate the database, then serve the static sites and the dynamic
services on one local port, with the outbox worker in the same process."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from . import create_app
from .platform import config
from .platform.config import create_private_database, settings_from_env
from .platform.db import make_engine, migrate
from .platform.outbox import start_worker_thread

log = logging.getLogger(__name__)


def migrate_database(**overrides: Any) -> str:
    settings = settings_from_env(**overrides)
    create_private_database(settings)
    engine = make_engine(settings.database_url)
    migrate(engine)
    engine.dispose()
    return engine.url.render_as_string(hide_password=True)


def _local_offices(app: Any, output_dir: Path) -> None:
    """Every office that receives a switched-on form gets a key and a token for local runs,
    so that forms can be sent and fetched with the clerk client."""
    import katalog

    from .forms.delivery import provision_local_offices

    recipients: dict[str, list[str]] = {}
    for path in sorted(Path(output_dir).glob(f"[!.]*/{katalog.FILE_NAME}")):
        data = katalog.read(path)
        units = {r.unit for form in data.forms.values() for r in form.recipients}
        recipients[path.parent.name] = sorted(units)
    folder = config.settings(app).var_dir / "offices"
    if provision_local_offices(app, folder, recipients):
        print(f"Schlüssel und Tokens der Ämter für lokale Tests: {folder}/<kommune>/<stelle>/")


def serve(output_dir: Path, host: str = "127.0.0.1", port: int = 8000, base_url: str | None = None,
          live_reload: bool = False) -> None:
    from werkzeug.serving import run_simple

    overrides: dict[str, Any] = {"output_dir": output_dir}
    if base_url:
        overrides["base_url"] = base_url
    migrate_database(**overrides)
    app = create_app(settings_from_env(**overrides))
    if not config.settings(app).production:
        _local_offices(app, output_dir)
    if live_reload:
        from . import live_reload as reloading

        reloading.init_app(app)
    start_worker_thread(app)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # its access log carries client addresses
    print(f"Bürgerportal läuft auf http://{host}:{port}/  (Strg+C beendet)")
    if config.settings(app).dev_idp:
        print(f"Entwicklungs-Identitätsanbieter: http://{host}:{port}/dev-idp/  (nur für Tests, nie in Produktion)")
    run_simple(host, port, app, threaded=True, use_reloader=False)
