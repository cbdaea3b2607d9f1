"""The dynamic tier: one Flask app for accounts and login, profile, SAML, and (for a local
run) the built static sites. See ARCHITECTURE.md, "The dynamic tier"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .platform.config import Settings, settings_from_env

if TYPE_CHECKING:
    from flask import Flask


def create_app(settings: Settings | None = None, **flask_config: Any) -> Flask:
    """Build the app. Refuses to start on an unmigrated database (NotMigrated says the fix)."""
    # Imported here, not at the top: the clerk's client (package clerk) imports this package's
    # platform/crypto.py and should start without the web framework and the database layer.
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from .accounts.profile import profile
    from .accounts.views import accounts
    from .appointments import page_cache
    from .appointments.reminders import forget_past_addresses, queue_reminders, remove_expired_holds
    from .appointments.views import appointments
    from .forms import fitconnect
    from .forms.api import api
    from .forms.delivery import push_webhook
    from .forms.views import forms
    from .inbox.views import inbox
    from .platform import db as database
    from .platform import errors, metrics, outbox, ratelimit, render, security
    from .platform.auth import commit_touch
    from .platform.health import health
    from .platform.outbox import process_outbox
    from .platform.ratelimit import Limiter
    from .platform.routing import BoundedInt
    from .platform.sites import sites
    from .saml.logs import withhold_pysaml2_logs
    from .saml.sp import forget_unfinished_logins, saml
    from .search import search
    from .staff.views import staff

    settings = settings or settings_from_env()
    if settings.log_format == "json":
        use_json_logs()
    _keep_every_log_line()
    withhold_pysaml2_logs()
    app = Flask(__name__, static_folder=None)
    app.config.update(
        PORTAL=settings,
        SECRET_KEY=settings.secret_key,
        OUTPUT_DIR=settings.output_dir.resolve(),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    security.init_app(app, settings)
    metrics.init_app(app)
    app.config.update(settings.extra)
    app.config.update(flask_config)

    engine = database.make_engine(settings.database_url)
    database.ensure_migrated(engine)
    database.init_app(app, engine)
    app.url_map.converters["int"] = BoundedInt  # before any route is added: ids fit the database
    ratelimit.init_app(app, Limiter(settings.redis_url, settings.redis_prefix))
    render.init_app(app)
    errors.init_app(app)
    page_cache.init_app(app)
    app.after_request(commit_touch)
    app.cli.command("outbox")(lambda: print(process_outbox(app)))
    for job in (queue_reminders, forget_past_addresses, remove_expired_holds, forget_unfinished_logins):
        outbox.add_periodic_job(app, job)
    outbox.add_handler(app, "webhook", push_webhook)
    outbox.add_handler(app, fitconnect.OUTBOX_KIND, fitconnect.outbox)

    app.register_blueprint(health)
    app.register_blueprint(accounts)
    app.register_blueprint(profile)
    app.register_blueprint(saml)
    app.register_blueprint(staff)
    app.register_blueprint(inbox)
    app.register_blueprint(appointments)
    app.register_blueprint(forms)
    app.register_blueprint(api)
    app.register_blueprint(search)
    if settings.dev_idp:
        from .saml.dev_idp import dev_idp

        app.register_blueprint(dev_idp)
    app.register_blueprint(sites)  # last: it answers every other path from the output folder
    if settings.production:
        from .saml.sp import service_provider

        service_provider(app)  # broken IdP metadata or keys stop the start, not the first login
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                x_proto=settings.trusted_proxies, x_host=settings.trusted_proxies)
    return app


def _keep_every_log_line() -> None:
    """Pelican (imported by `build.py serve` and the tests) gives every logger created after it
    a filter that drops repeated messages; the dynamic tier's request and outbox lines must all
    be kept, so that filter is taken off its loggers."""
    import logging

    for name, logger in list(logging.root.manager.loggerDict.items()):
        if name.split(".")[0] == "dynamic" and isinstance(logger, logging.Logger):
            logger.filters = [f for f in logger.filters if type(f).__name__ != "LimitFilter"]


def use_json_logs() -> None:
    """LOG_FORMAT=json: every log line one JSON object (time, level, logger, message and the
    request fields). What is logged is chosen so that it never holds personal data."""
    import logging

    from pythonjsonlogger.json import JsonFormatter

    formatter = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                              rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
        root.setLevel(logging.INFO)
    for handler in root.handlers:
        handler.setFormatter(formatter)


__all__ = ["create_app", "Settings", "settings_from_env"]
