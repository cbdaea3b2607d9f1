"""Dynamic pages with the static site's templates, so both look the same.

Pages under /<slug>/… belong to that municipality. Portal-wide pages (/konto/, /saml/)
wear the municipality the citizen came from (remembered in the session), else the
portal's neutral look.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Flask, g, render_template, request, session

from portal.grammar import forms_of
from portal.theme import PORTAL_SITE, TEMPLATES, SiteInfo, use_theme

from . import config

BERLIN = ZoneInfo("Europe/Berlin")

PORTAL = PORTAL_SITE  # the portal's neutral look, as on its root pages


def init_app(app: Flask) -> None:
    from jinja2 import FileSystemLoader

    app.jinja_loader = FileSystemLoader(str(TEMPLATES))
    # Flask's own environment (its loader and globals) with the theme's options and filters. Mails
    # (.txt) are laid out for Jinja's own whitespace rules, so blocks keep their lines here.
    use_theme(app.jinja_env, trim_blocks=False, lstrip_blocks=False)
    app.jinja_env.filters["localtime"] = localtime
    app.context_processor(_page_globals)


def localtime(value: dt.datetime) -> str:
    """An aware UTC time as citizens read it: "29.11.2026, 14:05 Uhr" (German time)."""
    return value.astimezone(BERLIN).strftime("%d.%m.%Y, %H:%M Uhr")


def site_for(slug: str | None) -> SiteInfo:
    from .catalog import grammar_of, katalog

    found = katalog(slug) if slug else None
    if found is None:
        return PORTAL
    m = found.municipality
    return SiteInfo.of(slug=m.slug, base_url=config.settings().base_url, name=m.name,
                       short_name=m.short_name, kind=m.kind, logo=m.logo, email=m.email, phone=m.phone,
                       booking=any(s.booking for s in found.services.values()), grammar=forms_of(grammar_of(m)))


def remember_municipality() -> None:
    """Note which municipality's site the citizen came from (?kommune= or the referring page)."""
    from .catalog import katalog

    wanted = request.args.get("kommune")
    if wanted is None and request.referrer:
        referrer = urlsplit(request.referrer)
        if referrer.netloc == request.host:
            wanted = referrer.path.strip("/").split("/", 1)[0]
    if wanted and session.get("kommune") != wanted and katalog(wanted) is not None:
        session["kommune"] = wanted


def current_site() -> SiteInfo:
    slug = g.get("site_slug") or session.get("kommune")
    return site_for(slug)


def page(template: str, title: str, status: int = 200, errors: Mapping[str, str] | None = None,
         parent: tuple[str, str] | None = None, **context: Any) -> tuple[str, int]:
    """Render a dynamic page. `title` is the heading's text for the browser title and the
    breadcrumbs; with `errors` the browser title starts with "Fehler: " (GOV.UK pattern)."""
    site = current_site()
    crumbs = context.pop("crumbs", None)
    if crumbs is None:
        crumbs = [("Startseite", site.base), *([parent] if parent else []), (title, request.path)]
    if errors and not title.startswith("Fehler: "):
        title = "Fehler: " + title
    return render_template(template, title=title, crumbs=crumbs, PORTAL_SITE=site, jsonld=None,
                           errors=errors or {}, **context), status


def _page_globals() -> dict[str, Any]:
    from .auth import current_login

    return {"login": current_login(), "dynamic": True}
