"""Accounts of the state login. The service provider (saml/sp.py) checks the identity
provider's answer and hands over what it verified: the citizen's pseudonym (bPK2) and the
values vouched for. This module finds, links or creates the account and stores the values
in its profile. See ARCHITECTURE.md, "The dynamic tier"."""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from ..platform import auth
from ..platform.db import db
from ..platform.models import Account
from .profile_values import store_identity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifiedIdentity:
    bpk2: str  # the pseudonym the identity provider gives the citizen for this portal
    values: Mapping[str, str]  # profile fields by name
    source: str  # where the values come from, as the profile names it
    verified: bool  # whether the values count as verified (they replace what the citizen typed)


class Clash(enum.Enum):
    """Why a state login is not taken for the account that is logged in (the value is the
    reason that is logged)."""

    # A step-up whose state account belongs to another portal account: never switch accounts
    # unasked (the drafts of this one would drop out of sight).
    OTHER_ACCOUNT = "pseudonym of another account than the logged-in one"
    OTHER_PSEUDONYM = "logged-in account already linked to another pseudonym"


def take_state_login(identity: VerifiedIdentity) -> Account | Clash:
    """The account of a state login: the one with its pseudonym, else the logged-in one, now
    linked to it, else a new one; with the identity's values stored in its profile. The
    caller commits. A clash with the logged-in account changes nothing."""
    account = db().query(Account).filter(Account.bpk2 == identity.bpk2).one_or_none()
    current = auth.current_account()
    if account is not None and current is not None and current.id != account.id:
        return Clash.OTHER_ACCOUNT
    if account is None and current is not None and current.bpk2 is not None:
        return Clash.OTHER_PSEUDONYM
    if account is None:
        account = current
        if account is None:
            account = Account(bpk2=identity.bpk2, email=None)
            db().add(account)
            log.info("account created by SAML login")
        else:
            account.bpk2 = identity.bpk2
            log.info("account linked to the state login")
        db().flush()
    store_identity(account.id, dict(identity.values), identity.source, verified=identity.verified)
    return account
