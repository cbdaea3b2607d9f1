"""The WSGI entry point for production: `gunicorn dynamic.wsgi:app` (settings from the environment)."""

from __future__ import annotations

import logging

from . import create_app

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
app = create_app()
