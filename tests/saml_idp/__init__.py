"""SimpleSAMLphp (Debian's package) as a BundID-like identity provider for the tests: an
identity provider nobody here wrote, run with PHP's built-in server on 127.0.0.1 with a
configuration generated per run (config.py), test persons at each level BundID issues
(persons.py), and its login driven over HTTP (server.py)."""

from .config import Options
from .persons import INGRID, LENA, MURAT, PERSONS, Person
from .server import Form, SimpleSamlPhp, SimpleSamlPhpMissing, missing

__all__ = ["INGRID", "LENA", "MURAT", "PERSONS", "Form", "Options", "Person", "SimpleSamlPhp", "SimpleSamlPhpMissing",
           "missing"]
