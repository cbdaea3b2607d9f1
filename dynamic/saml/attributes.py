"""The attributes the state identity provider sends, by URN (never by FriendlyName), and
how they map onto the fields of "Meine Daten". See DOMAIN.md, "Identity and trust levels"."""

from __future__ import annotations

from collections.abc import Mapping

from portal.profile_fields import FIELDS

URI_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"

QAA_LEVEL = "urn:oid:1.2.40.0.10.2.1.1.261.94"  # EID-CITIZEN-QAA-LEVEL: the level reached, a STORK class
BPK2 = "urn:oid:1.3.6.1.4.1.25484.494450.3"  # the stable pseudonym; accounts are linked by it
INTERFACE_VERSION = "urn:oid:1.3.6.1.4.1.25484.494450.1"
MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
GENDER = "urn:oid:1.3.6.1.4.1.33592.1.3.5"

# URN → profile field (portal.profile_fields).
PROFILE_FIELDS = {field.urn: field.name for field in FIELDS if field.urn is not None}
URN_OF_FIELD = {field: urn for urn, field in PROFILE_FIELDS.items()}

FRIENDLY_NAMES = {
    QAA_LEVEL: "EID-CITIZEN-QAA-LEVEL",
    BPK2: "bPK2",
    INTERFACE_VERSION: "InterfaceVersion",
    MAIL: "mail",
    GENDER: "gender",
    **{field.urn: field.friendly_name for field in FIELDS if field.urn is not None and field.friendly_name},
}


def profile_values(attributes: Mapping[str, list[str]]) -> dict[str, str]:
    """The profile fields in `attributes` (URN → values), first value each, trimmed."""
    values = {}
    for urn, field in PROFILE_FIELDS.items():
        found = [value.strip() for value in attributes.get(urn, []) if value and value.strip()]
        if found:
            values[field] = found[0]
    return values


def first(attributes: Mapping[str, list[str]], urn: str) -> str | None:
    values = [value.strip() for value in attributes.get(urn, []) if value and value.strip()]
    return values[0] if values else None
