"""Links from a state or federal service's page to the same service in the state and federal
portals, found by its LeiKa key."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Service

# --- the state and federal portals ---------------------------------------------------------


@dataclass(frozen=True)
class Portal:
    """A portal of the Portalverbund that describes state and federal services.

    leistung_url: the address of one service, with {leika} for its LeiKa key; home_url: the
    portal's start page. Leave either None until a source documents it: a guessed address
    sends citizens to an error page.
    """

    name: str
    in_name: str  # "im Serviceportal NRW": how link texts name the portal
    leistung_url: str | None = None
    home_url: str | None = None


# The federal service directory (Verwaltungsportal des Bundes) gives each service a page under
# its LeiKa key: https://verwaltung.bund.de/leistungsverzeichnis/DE/leistung/<key>. Seen on the
# directory's own pages (for example …/leistung/99012078261000/… for "Abbruch anzeigen", cited in
# content/services/abbruch-anzeigen.yaml) and linked in this short form by independent public
# projects (for 99115005104000 and 99108014042000). The Serviceportal NRW has no confirmed
# address pattern by key: its start page only, where citizens search for the service.
PORTALS: tuple[Portal, ...] = (
    Portal("Verwaltungsportal des Bundes", "im Verwaltungsportal des Bundes",
           leistung_url="https://verwaltung.bund.de/leistungsverzeichnis/DE/leistung/{leika}",
           home_url="https://verwaltung.bund.de"),
    Portal("Serviceportal NRW", "im Serviceportal NRW", home_url="https://service.nrw.de"),
)


@dataclass(frozen=True)
class PortalLink:
    portal: str
    url: str
    text: str  # the link text: says what opens and where
    to_service: bool  # False: the portal's start page, where citizens search by the key


def names_an_action(leika: str) -> bool:
    """Whether a LeiKa key names a service with its action (Verrichtung, digits 9–11), as the
    federal directory's pages do, not only the subject (…001000000 "BAföG" as a whole): a page
    address made from a subject key would not exist."""
    return len(leika) == 14 and leika[8:11] != "000"


def portal_links(service: Service, portals: tuple[Portal, ...] | None = None) -> list[PortalLink]:
    """Links to the same service in the state and federal portals, for a service that the
    state or the federation is responsible for, found by its LeiKa key."""
    if service.level not in ("land", "bund") or not service.leika:
        return []
    links = []
    for portal in PORTALS if portals is None else portals:
        if portal.leistung_url and names_an_action(service.leika):
            url = portal.leistung_url.format(leika=service.leika)
            links.append(PortalLink(portal.name, url, f"„{service.name}“ {portal.in_name}", True))
        elif portal.home_url:
            links.append(PortalLink(portal.name, portal.home_url, f"{portal.name}: Startseite", False))
    return links
