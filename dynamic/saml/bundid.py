"""What the federal account (BundID) expects in an AuthnRequest beyond SAML itself, and
which interface versions of its answers we read. See DOMAIN.md, "Identity and trust levels".

BundID sends attributes only when the request names them in its own extension inside
`samlp:Extensions`: `akdb:AuthenticationRequest` (Version 2) with the login means the citizen
may use (`AuthnMethods`) and the attributes wanted (`RequestedAttributes`, one
`RequestedAttribute` each, with `RequiredAttribute` true or false). We ask for as little as the
purpose of the login needs (data minimisation): the pseudonym, the level and the interface
version always; personal attributes only those the form being filled prefills, or a small
default set for "Mein Konto".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from xml.etree import ElementTree

from saml2 import ExtensionElement, samlp

from portal.levels import Means, means_reaching
from portal.profile_fields import FIELD_BY_NAME

from ..platform.catalog import katalog
from . import attributes

AKDB_NAMESPACE = "https://www.akdb.de/request/2018/09"
AKDB_VERSION = "2"
# The prefix BundID's interface description writes (any prefix is the same XML; this one reads better).
ElementTree.register_namespace("akdb", AKDB_NAMESPACE)

# Our means → the element BundID names it by in AuthnMethods. Every one is listed, enabled or
# not, so that the request says the same whether BundID reads a missing means as allowed or not.
AUTHN_METHODS = {Means.PASSWORT: "Benutzername", Means.ZERTIFIKAT: "Elster", Means.EID: "eID"}

# Interface versions (urn:oid:1.3.6.1.4.1.25484.494450.1) whose answers we understand, by their
# major number: the request extension we send is Version 2.
SUPPORTED_INTERFACE_MAJOR = frozenset({"2"})

# Always asked for, and required: without them no account can be found and no level checked.
TECHNICAL = (attributes.BPK2, attributes.QAA_LEVEL, attributes.INTERFACE_VERSION)
# "Mein Konto" and every purpose we cannot tell: the name, to greet the citizen and show it
# under "Meine Daten"; nothing else.
DEFAULT_FIELDS = ("given_name", "family_name")
# A form field's prefill source → the profile fields it needs (portal.profile_fields).
ADDRESS_FIELDS = ("street", "postal_code", "city")

FORM_PATH = re.compile(r"/(?P<slug>[a-z0-9][a-z0-9-]{0,59})/antrag/(?P<form>[A-Za-z0-9_-]{1,100})(?:[/?]|$)")


@dataclass(frozen=True)
class RequestedAttribute:
    urn: str
    required: bool


def prefill_sources(return_to: str) -> tuple[str, ...] | None:
    """The prefill sources of the form at `return_to` (where the login leads back to), or None
    when it leads to no form this portal knows."""
    found = FORM_PATH.match(return_to)
    if found is None:
        return None
    catalog = katalog(found["slug"])
    form = catalog.forms.get(found["form"]) if catalog is not None else None
    if form is None:
        return None
    return tuple(dict.fromkeys(field.prefill for field in form.fields() if field.prefill))


def requested_attributes(sources: Iterable[str] | None) -> tuple[RequestedAttribute, ...]:
    """What to ask for: the technical attributes (required), then the personal ones the prefill
    `sources` need (None: the default set), each optional, so that a login without one of
    them still succeeds and the citizen types it."""
    fields: list[str] = []
    urns: list[str] = []
    for source in DEFAULT_FIELDS if sources is None else sources:
        if source == "address":
            fields += ADDRESS_FIELDS
        elif source == "email":
            urns.append(attributes.MAIL)
        else:
            fields.append(source)
    for name in fields:
        field = FIELD_BY_NAME.get(name)
        if field is not None and field.urn is not None:
            urns.append(field.urn)
    wanted = [RequestedAttribute(urn, True) for urn in TECHNICAL]
    wanted += [RequestedAttribute(urn, False) for urn in dict.fromkeys(urns) if urn not in TECHNICAL]
    return tuple(wanted)


def extensions(level: str, wanted: Iterable[RequestedAttribute]) -> samlp.Extensions:
    """`samlp:Extensions` with BundID's AuthenticationRequest for a login at `level`."""
    allowed = set(means_reaching(level))
    methods = [_element("AuthnMethods", children=[
        _element(name, children=[_element("Enabled", text="true" if means in allowed else "false")])
        for means, name in AUTHN_METHODS.items()])]
    requested = [_element("RequestedAttributes", children=[
        _element("RequestedAttribute", {"Name": item.urn, "RequiredAttribute": "true" if item.required else "false"})
        for item in wanted])]
    request = _element("AuthenticationRequest", {"Version": AKDB_VERSION}, children=methods + requested)
    return samlp.Extensions(extension_elements=[request])


def _element(tag: str, attributes: dict[str, str] | None = None, children: list[ExtensionElement] | None = None,
             text: str | None = None) -> ExtensionElement:
    return ExtensionElement(tag, namespace=AKDB_NAMESPACE, attributes=attributes or {}, children=children or [],
                            text=text)


def interface_version_supported(value: str | None) -> bool:
    """Whether an answer's interface version is one we read (by its major number)."""
    if not value:
        return False
    return value.strip().split(".")[0] in SUPPORTED_INTERFACE_MAJOR
