"""The attributes the state identity provider sends, by URN (never by FriendlyName), and
how they map onto the fields of "Meine Daten". See DOMAIN.md, "Identity and trust levels"."""

from __future__ import annotations

from collections.abc import Mapping

URI_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"

QAA_LEVEL = "urn:oid:1.2.40.0.10.2.1.1.261.94"  # EID-CITIZEN-QAA-LEVEL: the level reached, a STORK class
BPK2 = "urn:oid:1.3.6.1.4.1.25484.494450.3"  # the stable pseudonym; accounts are linked by it
INTERFACE_VERSION = "urn:oid:1.3.6.1.4.1.25484.494450.1"
MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
GENDER = "urn:oid:1.3.6.1.4.1.33592.1.3.5"

# URN → profile field (dynamic/accounts/profile.py FIELDS).
PROFILE_FIELDS = {
    "urn:oid:2.5.4.42": "given_name",
    "urn:oid:2.5.4.4": "family_name",
    "urn:oid:1.2.40.0.10.2.1.1.225566": "birth_name",
    "urn:oid:1.2.40.0.10.2.1.1.55": "birthdate",
    "urn:oid:1.3.6.1.5.5.7.9.2": "place_of_birth",
    "urn:oid:1.2.40.0.10.2.1.1.225577": "nationality",
    "urn:oid:2.5.4.16": "street",
    "urn:oid:2.5.4.17": "postal_code",
    "urn:oid:2.5.4.7": "city",
    "urn:oid:1.2.40.0.10.2.1.1.225599": "country",
}
URN_OF_FIELD = {field: urn for urn, field in PROFILE_FIELDS.items()}

FRIENDLY_NAMES = {
    QAA_LEVEL: "EID-CITIZEN-QAA-LEVEL",
    BPK2: "bPK2",
    INTERFACE_VERSION: "InterfaceVersion",
    MAIL: "mail",
    GENDER: "gender",
    "urn:oid:2.5.4.42": "givenName",
    "urn:oid:2.5.4.4": "surname",
    "urn:oid:1.2.40.0.10.2.1.1.225566": "birthName",
    "urn:oid:1.2.40.0.10.2.1.1.55": "birthdate",
    "urn:oid:1.3.6.1.5.5.7.9.2": "placeOfBirth",
    "urn:oid:1.2.40.0.10.2.1.1.225577": "nationality",
    "urn:oid:2.5.4.16": "postalAddress",
    "urn:oid:2.5.4.17": "postalCode",
    "urn:oid:2.5.4.7": "localityName",
    "urn:oid:1.2.40.0.10.2.1.1.225599": "countryCodeAddress",
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
