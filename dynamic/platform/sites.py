"""Serve the built sites from the output folder, as nginx would in production."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, abort, redirect, send_file
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from . import config
from .catalog import plausible_slug

sites = Blueprint("sites", __name__)


def _output() -> Path:
    return config.output_dir()


@sites.route("/", defaults={"path": ""})
@sites.route("/<path:path>")
def static_file(path: str) -> Response:
    root = _output()
    joined = safe_join(str(root), path) if path else str(root)
    if joined is None or "\0" in path or any(part.startswith(".") for part in Path(path).parts):
        abort(404)
    target = Path(joined)
    if _is(target, Path.is_dir):
        if path and not path.endswith("/"):
            return redirect(f"/{path}/", code=301)
        target = target / "index.html"
    if not _is(target, Path.is_file):
        return not_found(path)
    response = send_file(target, max_age=300 if target.suffix == ".html" else 3600)
    if target.suffix == ".html":
        response.headers["Content-Type"] = "text/html; charset=utf-8"
    return response


def municipality_404(path: str) -> Response | None:
    """The 404 page of the municipality whose address `path` is under, or None."""
    slug = path.lstrip("/").split("/", 1)[0]
    page = _output() / slug / "404.html" if plausible_slug(slug) else None
    if page is None or not page.is_file():
        return None
    response = send_file(page, max_age=60)
    response.status_code = 404
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    return response


def _is(target: Path, test: Callable[[Path], bool]) -> bool:
    """A file test that answers False for a name the file system cannot hold (too long)."""
    try:
        return test(target)
    except OSError:
        return False


def not_found(path: str) -> Response:
    """The municipality's own 404 page, or the portal's error page (errors.py)."""
    page = municipality_404(path)
    if page is None:
        abort(404)
    return page
