"""schema.org structured data (JSON-LD) for every kind of page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from portal.text import SCHEMA_DAYS, fee_text

from .catalog import Catalog, ServiceEntry
from .models import Address, Contact, Fee, Location, Service, Unit
from .xzufi import portal_links


def postal_address(address: Address) -> dict[str, Any]:
    return {
        "@type": "PostalAddress",
        "streetAddress": address.street,
        "postalCode": address.postal_code,
        "addressLocality": address.city,
        "addressCountry": "DE",
    }


def organisation(catalog: Catalog, base_url: str) -> dict[str, Any]:
    m = catalog.municipality
    data: dict[str, Any] = {
        "@type": "GovernmentOrganization",
        "name": m.name,
        "url": f"{base_url}/{catalog.slug}/",
        "telephone": m.phone,
        "email": m.email,
        "address": postal_address(m.address),
        "sameAs": m.website,
    }
    # Example values (beispiel, beispiel_felder) are never published as facts.
    for key, name in (("telephone", "phone"), ("email", "email"), ("address", "address"), ("sameAs", "website")):
        if m.is_example(name):
            del data[key]
    return data


def breadcrumbs(crumbs: list[tuple[str, str]], base_url: str) -> dict[str, Any]:
    return {
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": i, "name": name, "item": base_url + url}
            for i, (name, url) in enumerate(crumbs, start=1)
        ],
    }


def _offer(fee: Fee) -> dict[str, Any]:
    """A fee as schema.org reads it: a fixed amount as `price`, a range as a PriceSpecification
    with its bounds; a fee without an amount (set by a statute, for example) in words only."""
    offer: dict[str, Any] = {"@type": "Offer", "name": fee.label, "priceCurrency": "EUR"}
    if fee.amount is not None:
        offer["price"] = fee.amount
    elif fee.amount_min is not None or fee.amount_max is not None:
        spec: dict[str, Any] = {"@type": "PriceSpecification", "priceCurrency": "EUR"}
        if fee.amount_min is not None:
            spec["minPrice"] = fee.amount_min
        if fee.amount_max is not None:
            spec["maxPrice"] = fee.amount_max
        offer["priceSpecification"] = spec
    if fee.amount is None:
        offer["description"] = fee_text(fee)
    return offer


def opening_hours(location: Location, holidays: list[tuple[dt.date, str]]) -> dict[str, Any]:
    """The regular hours, exceptions and public holidays; none of them where they are examples."""
    if location.is_example("opening_hours"):
        return {}
    data: dict[str, Any] = {
        "openingHoursSpecification": [
            {
                "@type": "OpeningHoursSpecification",
                "dayOfWeek": [f"https://schema.org/{SCHEMA_DAYS[d]}" for d in h.days],
                "opens": h.opens,
                "closes": h.closes,
            }
            for h in location.opening_hours
        ]
    }
    special = [
        {
            "@type": "OpeningHoursSpecification",
            "validFrom": e.date.isoformat(),
            "validThrough": e.date.isoformat(),
            **({"opens": "00:00", "closes": "00:00"} if e.closed else {"opens": e.opens, "closes": e.closes}),
        }
        for e in location.exceptions
        if not location.is_example("exceptions")
    ]
    special += [
        {
            "@type": "OpeningHoursSpecification",
            "validFrom": day.isoformat(),
            "validThrough": day.isoformat(),
            "opens": "00:00",
            "closes": "00:00",
        }
        for day, _ in holidays
        if not location.is_example("closed_on_public_holidays")
    ]
    if special:
        data["specialOpeningHoursSpecification"] = special
    return data


def place(location: Location, url: str, holidays: list[tuple[dt.date, str]]) -> dict[str, Any]:
    data: dict[str, Any] = {"@type": "GovernmentOffice", "name": location.name, "url": url}
    if not location.is_example("address"):
        data["address"] = postal_address(location.address)
    if location.geo and not location.is_example("geo"):
        data["geo"] = {"@type": "GeoCoordinates", "latitude": location.geo.lat, "longitude": location.geo.lon}
    if location.phone and not location.is_example("phone"):
        data["telephone"] = location.phone
    data.update(opening_hours(location, holidays))
    return data


def provider(catalog: Catalog, s: Service, base_url: str) -> dict[str, Any]:
    """Who provides a service: the state's or federation's authority, else the municipality."""
    if s.level in ("land", "bund") and s.authority:
        data: dict[str, Any] = {"@type": "GovernmentOrganization", "name": s.authority.name}
        if s.authority.url:
            data["url"] = s.authority.url
        return data
    return organisation(catalog, base_url)


def service(catalog: Catalog, entry: ServiceEntry, url: str, base_url: str) -> dict[str, Any]:
    s = entry.service
    data: dict[str, Any] = {
        "@type": "GovernmentService",
        "name": s.name,
        "description": s.teaser,
        "url": url,
        "serviceType": s.name,
        "provider": provider(catalog, s, base_url),
        "areaServed": {"@type": "AdministrativeArea", "name": catalog.municipality.short_name},
    }
    same = [link.url for link in portal_links(s) if link.to_service]
    if same:  # the same service in the state and federal portals
        data["sameAs"] = same
    if s.leika:
        data["identifier"] = {
            "@type": "PropertyValue",
            "propertyID": "LeiKa",
            "value": f"urn:de:fim:leika:leistung:{s.leika}",
        }
    if s.synonyms:  # names of the service; search_only (typos, colloquial words) is never published
        data["alternateName"] = list(s.synonyms)
    offers = [_offer(fee) for fee in entry.fees if not (fee.example or entry.is_example("fees"))]
    if offers:
        data["offers"] = offers
    channels = []
    for resp in entry.responsibilities[:50]:
        unit = catalog.units[resp.unit_id]
        channel: dict[str, Any] = {
            "@type": "ServiceChannel",
            "name": unit.name,
            "serviceUrl": f"{base_url}/{catalog.slug}/organisation/{resp.unit_id}/",
        }
        if unit.phone and not unit.is_example("phone"):
            channel["servicePhone"] = {"@type": "ContactPoint", "telephone": unit.phone}
        if resp.location_ids and not catalog.locations[resp.location_ids[0]].is_example("address"):
            loc = catalog.locations[resp.location_ids[0]]
            channel["serviceLocation"] = {
                "@type": "GovernmentOffice",
                "name": loc.name,
                "address": postal_address(loc.address),
            }
        channels.append(channel)
    if entry.booking:
        booking_url = f"{base_url}/{catalog.slug}/termine/{entry.id}/"
        channels.append({"@type": "ServiceChannel", "name": "Termin online buchen", "serviceUrl": booking_url})
    if s.online and s.online.url:
        channels.append({"@type": "ServiceChannel", "name": s.online.label, "serviceUrl": s.online.url})
    if channels:
        data["availableChannel"] = channels
    return data


def unit(catalog: Catalog, uid: str, u: Unit, base_url: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@type": "GovernmentOrganization",
        "name": u.name,
        "url": f"{base_url}/{catalog.slug}/organisation/{uid}/",
        "parentOrganization": organisation(catalog, base_url),
    }
    if u.phone and not u.is_example("phone"):
        data["telephone"] = u.phone
    if u.email and not u.is_example("email"):
        data["email"] = u.email
    return data


def contact(catalog: Catalog, c: Contact, url: str, base_url: str) -> dict[str, Any]:
    point: dict[str, Any] = {
        "@type": "ContactPoint",
        "name": c.name,
        "contactType": c.role,
        "url": url,
        "availableLanguage": "de",
    }
    if c.phone:
        point["telephone"] = c.phone
    if c.email:
        point["email"] = c.email
    if c.office_hours:
        point["hoursAvailable"] = c.office_hours
    return point
