"""The test persons of the SimpleSAMLphp identity provider: one for each level BundID issues.

All invented (names, addresses and pseudonyms belong to nobody; the e-mail domain is
reserved). Each logs in at SimpleSAMLphp's login form with its user name and password and
comes back with the attributes BundID sends, named by their URNs (DOMAIN.md, "Identity and
trust levels"), among them its STORK level in EID-CITIZEN-QAA-LEVEL: SimpleSAMLphp knows
nothing of levels and sends whatever the person carries, whatever the request asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The attribute URNs, written out here rather than imported from the service provider: the
# identity provider is configured from BundID's interface description, not from our code.
QAA_LEVEL = "urn:oid:1.2.40.0.10.2.1.1.261.94"
BPK2 = "urn:oid:1.3.6.1.4.1.25484.494450.3"
INTERFACE_VERSION = "urn:oid:1.3.6.1.4.1.25484.494450.1"
GIVEN_NAME = "urn:oid:2.5.4.42"
SURNAME = "urn:oid:2.5.4.4"
MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
STREET = "urn:oid:2.5.4.16"
POSTAL_CODE = "urn:oid:2.5.4.17"
LOCALITY = "urn:oid:2.5.4.7"
COUNTRY = "urn:oid:1.2.40.0.10.2.1.1.225599"
BIRTHDATE = "urn:oid:1.2.40.0.10.2.1.1.55"
PLACE_OF_BIRTH = "urn:oid:1.3.6.1.5.5.7.9.2"
BIRTH_NAME = "urn:oid:1.2.40.0.10.2.1.1.225566"
NATIONALITY = "urn:oid:1.2.40.0.10.2.1.1.225577"
GENDER = "urn:oid:1.3.6.1.4.1.33592.1.3.5"

# The portal's profile fields (portal.profile_fields) each attribute fills.
PROFILE_FIELD_OF = {
    GIVEN_NAME: "given_name", SURNAME: "family_name", BIRTH_NAME: "birth_name", BIRTHDATE: "birthdate",
    PLACE_OF_BIRTH: "place_of_birth", NATIONALITY: "nationality", STREET: "street", POSTAL_CODE: "postal_code",
    LOCALITY: "city", COUNTRY: "country",
}


@dataclass(frozen=True)
class Person:
    username: str
    password: str
    stork: str  # the STORK QAA class the identity provider reports for this person's login
    level: str  # the portal's level that class stands for (portal.levels)
    attributes: dict[str, str] = field(default_factory=dict)  # URN → value, the level and bPK2 included

    @property
    def bpk2(self) -> str:
        return self.attributes[BPK2]

    def profile(self) -> dict[str, str]:
        """The profile fields the portal should store from this person's answer."""
        return {PROFILE_FIELD_OF[urn]: value for urn, value in self.attributes.items() if urn in PROFILE_FIELD_OF}


URN_OF = {
    "bpk2": BPK2, "given_name": GIVEN_NAME, "family_name": SURNAME, "mail": MAIL, "street": STREET,
    "postal_code": POSTAL_CODE, "city": LOCALITY, "country": COUNTRY, "birthdate": BIRTHDATE,
    "place_of_birth": PLACE_OF_BIRTH, "birth_name": BIRTH_NAME, "nationality": NATIONALITY, "gender": GENDER,
}


# The interface version every answer carries: the one the development IdP sends. Should the SP
# come to check it against another value, this is the one place to change.
SENT_INTERFACE_VERSION = "2.0"


def _person(username: str, stork: str, level: str, **values: str) -> Person:
    attributes = {QAA_LEVEL: stork, INTERFACE_VERSION: SENT_INTERFACE_VERSION, **{URN_OF[name]: value for name, value in values.items()}}
    return Person(username, f"{username}-passwort-42", stork, level, attributes)


# Username and password at BundID: the "Basisregistrierung", values as the citizen typed them.
LENA = _person("lena", "STORK-QAA-Level-1", "basis",
               bpk2="SSP-bPK2:TGVuYVByb2JlaGFnZW4tSGFtbS0wMDEtYmFzaXM", given_name="Lena", family_name="Probehagen",
               mail="lena.probehagen@example.invalid", street="Testgasse 5", postal_code="59065", city="Hamm",
               country="DE")
# ELSTER certificate: Level-3, checked against the population register.
MURAT = _person("murat", "STORK-QAA-Level-3", "substantiell",
                bpk2="SSP-bPK2:TXVyYXRCZWlzcGllbC1CZWNrdW0tMDAyLXN1YnN0", given_name="Murat", family_name="Beispiel",
                mail="murat.beispiel@example.invalid", birthdate="1979-04-30", street="Musterring 12 b",
                postal_code="59269", city="Beckum", country="DE", gender="male")
# The online ID card (eID): Level-4, values from the document.
INGRID = _person("ingrid", "STORK-QAA-Level-4", "hoch",
                 bpk2="SSP-bPK2:SW5ncmlkw5Zyc3RlZHQtT2VsZGUtMDAzLWhvY2g", given_name="Ingrid Maria",
                 family_name="Örtstedt", birth_name="Quell", birthdate="1958-12-01", place_of_birth="Lübeck",
                 nationality="DE", street="Am Prüfstein 1", postal_code="59302", city="Oelde", country="DE",
                 mail="ingrid.oertstedt@example.invalid", gender="female")

PERSONS = (LENA, MURAT, INGRID)
