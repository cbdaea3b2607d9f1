"""Password hashing (argon2id) and the rules a new password must meet.

Every request that could tell whether an address has an account does exactly one argon2
operation, whatever the answer: a check against a dummy hash where there is no account or
no password (`verify_password`), and a hash or check whose result is thrown away on a path
that would otherwise do none (`same_work`). Its time then does not say whether the address
is known."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 128
COMMON_LIST_SIZE = 10_000  # the most common passwords of the list that zxcvbn ships

# Common German passwords and their stems, which an English list does not hold.
GERMAN_COMMON = (
    "passwort", "hallo", "schatz", "fussball", "fußball", "sommer", "winter", "frühling", "herbst",
    "geheim", "ichliebedich", "liebe", "schalke", "borussia", "bayern", "dortmund", "muenster", "münster",
    "hamm", "schnucki", "mausi", "hase", "hasenbein", "blume", "sonne", "sonnenschein", "engel", "prinzessin",
    "berlin", "deutschland", "qwertz", "qwertzu", "qwertzuiop", "asdfgh", "ficken", "arschloch",
    "buergerportal", "bürgerportal", "servicekonto", "anmelden", "willkommen", "passwort1", "kennwort",
)

hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password; with no stored hash, do the same work anyway (no timing hint)."""
    try:
        return hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def same_work(password: str = "") -> None:
    """One argon2 verification whose result does not count: for the paths of a request that
    would otherwise answer faster for an unknown (or a known) address."""
    verify_password(None, password)


def prepare() -> None:
    """Compute the dummy hash now (at start), not in the first request that needs it."""
    _dummy_hash()


def needs_rehash(stored_hash: str) -> bool:
    return hasher.check_needs_rehash(stored_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hasher.hash("not-a-password-of-anyone")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_LIST_SIZE]) | frozenset(GERMAN_COMMON)


def _core(password: str) -> str:
    """The password without the digits and signs people put around a word ("Sommer2024!")."""
    return password.lower().strip("0123456789!?.,;:-_+*#@$%&/()=<>' ")


def problem_with(password: str, email: str | None = None) -> str | None:
    """Why a new password is refused, as the message the citizen reads; None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Wählen Sie ein Passwort mit mindestens {MIN_LENGTH} Zeichen."
    if len(password) > MAX_LENGTH:
        return f"Wählen Sie ein Passwort mit höchstens {MAX_LENGTH} Zeichen."
    lowered = password.lower()
    core = _core(password)
    common = common_passwords()
    if lowered in common or (len(core) >= 4 and core in common) or len(set(lowered)) <= 2:
        return ("Dieses Passwort gehört zu den häufigsten Passwörtern und ist leicht zu erraten. "
                "Wählen Sie ein anderes, zum Beispiel drei oder vier zufällige Wörter.")
    local = (email or "").split("@", 1)[0].lower()
    if len(local) >= 4 and local in lowered:
        return "Ihr Passwort darf Ihre E-Mail-Adresse nicht enthalten."
    return None
