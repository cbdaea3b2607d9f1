"""The fields of "Meine Daten": what each is called, how browsers fill it, and the SAML
attribute (by URN, never by FriendlyName) in which the state's login service sends it. Forms
name them as `prefill:` sources. See DOMAIN.md, "Identity and trust levels"."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProfileField:
    name: str
    label: str
    autocomplete: str
    kind: str = "text"  # text | date | tel | choice
    urn: str | None = None  # the SAML attribute that carries it, if the identity provider sends it
    friendly_name: str | None = None  # that attribute's FriendlyName (only for messages we build ourselves)
    prefill: bool = True  # a form's field may be filled from it


FIELDS = (
    ProfileField("given_name", "Vorname(n)", "given-name", urn="urn:oid:2.5.4.42", friendly_name="givenName"),
    ProfileField("family_name", "Familienname", "family-name", urn="urn:oid:2.5.4.4", friendly_name="surname"),
    ProfileField("birth_name", "Geburtsname", "off", urn="urn:oid:1.2.40.0.10.2.1.1.225566",
                 friendly_name="birthName"),
    ProfileField("birthdate", "Geburtsdatum", "bday", "date", urn="urn:oid:1.2.40.0.10.2.1.1.55",
                 friendly_name="birthdate"),
    ProfileField("place_of_birth", "Geburtsort", "off", urn="urn:oid:1.3.6.1.5.5.7.9.2", friendly_name="placeOfBirth"),
    ProfileField("nationality", "Staatsangehörigkeit", "off", urn="urn:oid:1.2.40.0.10.2.1.1.225577",
                 friendly_name="nationality"),
    ProfileField("street", "Straße und Hausnummer", "street-address", urn="urn:oid:2.5.4.16",
                 friendly_name="postalAddress"),
    ProfileField("postal_code", "Postleitzahl", "postal-code", urn="urn:oid:2.5.4.17", friendly_name="postalCode"),
    ProfileField("city", "Ort", "address-level2", urn="urn:oid:2.5.4.7", friendly_name="localityName"),
    ProfileField("country", "Staat", "country-name", urn="urn:oid:1.2.40.0.10.2.1.1.225599",
                 friendly_name="countryCodeAddress"),
    ProfileField("phone", "Telefon", "tel", "tel"),
    ProfileField("preferred_contact", "Bevorzugter Kontaktweg", "off", "choice", prefill=False),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)
FIELD_BY_NAME = {f.name: f for f in FIELDS}

# What a form's field may be prefilled from: the stored fields, the account's e-mail address
# and the whole address (street, postal code and city in one).
PREFILL_SOURCES: tuple[str, ...] = (*(f.name for f in FIELDS if f.prefill), "email", "address")
