"""The look both tiers share: what every page shows of its site (`SiteInfo`), the portal's
own neutral site, the template filters, and the one Jinja environment for the static
pages (Pelican), the portal's root pages and the app's dynamic pages and mails."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, BytecodeCache, Environment, FileSystemLoader, select_autoescape

from .grammar import NameForms, upper_first
from .text import amount_of, date_de, days_text, duration_text, euro, fee_text, ld_json, markdown, safe_html, weekday

TEMPLATES = Path(__file__).resolve().parent.parent / "site_templates" / "templates"


@dataclass(frozen=True)
class SiteInfo:
    """Everything every page shows (header, navigation, footer)."""

    slug: str
    base: str  # "/muenster/"
    base_url: str  # "https://portal.example" (no trailing slash)
    name: str
    short_name: str
    is_district: bool
    logo: str | None
    email: str
    phone: str
    booking: bool = False  # appointments bookable online: "Termin buchen" in the main navigation
    # The name declined for sentences: site.grammar.genitive → „des Kreises Coesfeld“.
    grammar: NameForms = NameForms("das Bürgerportal", "das Bürgerportal", "dem Bürgerportal", "des Bürgerportals")

    @classmethod
    def of(cls, *, slug: str, base_url: str, name: str, short_name: str, kind: str, logo: str | None, email: str,
           phone: str, booking: bool, grammar: NameForms) -> SiteInfo:
        """A municipality's site, as the build (from content) and the app (from katalog.json) see it."""
        return cls(slug=slug, base=f"/{slug}/", base_url=base_url.rstrip("/"), name=name, short_name=short_name,
                   is_district=kind == "kreis", logo=logo, email=email, phone=phone, booking=booking, grammar=grammar)


# The portal's own pages (root page, operator's pages, pages outside a municipality) wear
# this neutral look.
PORTAL_SITE = SiteInfo(slug="", base="/", base_url="", name="Bürgerportal", short_name="Bürgerportal",
                       is_district=False, logo=None, email="", phone="")

FILTERS: dict[str, Any] = {
    "weekday": weekday,
    "ld_json": ld_json,
    "euro": euro,
    "fee_text": fee_text,
    "duration_text": duration_text,
    "date_de": date_de,
    "days_text": days_text,
    "markdown": markdown,
    "safe_html": safe_html,
    "amount_of": amount_of,
    "upper_first": upper_first,
}

# HTML is escaped, mail text (.txt) is not; block tags take their line with them.
OPTIONS: dict[str, Any] = {
    "autoescape": select_autoescape(("html", "htm", "xml")),
    "trim_blocks": True,
    "lstrip_blocks": True,
}


def make_environment(loader: BaseLoader | None = None, bytecode_cache: BytecodeCache | None = None,
                     **options: Any) -> Environment:
    """The theme's Jinja environment over `loader` (default: the theme's templates)."""
    env = Environment(loader=loader or FileSystemLoader(str(TEMPLATES)), bytecode_cache=bytecode_cache)
    return use_theme(env, **options)


def use_theme(env: Environment, **options: Any) -> Environment:
    """Give an environment OPTIONS (`options` over them) and FILTERS: one that make_environment
    made, or one made elsewhere before it loads a template (Flask makes its own, with its globals)."""
    for name, value in {**OPTIONS, **options}.items():
        setattr(env, name, value)
    env.filters.update(FILTERS)
    return env
