"""Staff accounts from the shell (`python build.py staff <slug> <username>`): operators
create a clerk of one municipality or give one a new password."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.errors import PortalError

from ..platform.catalog import katalog
from ..platform.config import settings_from_env
from ..platform.db import ensure_migrated, make_engine
from ..platform.models import StaffSession, StaffUser
from ..platform.passwords import hash_password, problem_with

PASSWORD_VARIABLE = "STAFF_PASSWORD"
USERNAME_MAX = 80


class StaffAccountError(PortalError):
    """Input the command refuses; the message says what to do (German, for the operator)."""


def ask_password(username: str) -> str:
    """STAFF_PASSWORD, or asked twice on the terminal."""
    given = os.environ.get(PASSWORD_VARIABLE)
    if given is not None:
        return given
    password = getpass.getpass(f"Passwort für {username}: ")
    if getpass.getpass("Passwort wiederholen: ") != password:
        raise StaffAccountError("Die beiden Passwörter stimmen nicht überein. Es wurde nichts gespeichert.")
    return password


def save_staff_user(slug: str, username: str, password: str, display_name: str | None = None,
                    output: Path | None = None) -> str:
    """Create the clerk or set a new password (ending their logins); the German confirmation."""
    settings = settings_from_env()
    found = katalog(slug, output if output is not None else settings.output_dir)
    if found is None:
        raise StaffAccountError(f"Eine Kommune „{slug}“ gibt es in der Ausgabe nicht. Bauen Sie die Seiten zuerst "
                                "(python build.py) oder prüfen Sie die Kurzbezeichnung.")
    username = username.strip()
    if not username or len(username) > USERNAME_MAX or any(char.isspace() for char in username):
        raise StaffAccountError(f"Geben Sie einen Benutzernamen mit höchstens {USERNAME_MAX} Zeichen "
                                "ohne Leerzeichen an.")
    if problem := problem_with(password):
        raise StaffAccountError(problem)
    engine = make_engine(settings.database_url)
    try:
        ensure_migrated(engine)
        with Session(engine) as session:
            user = session.scalar(select(StaffUser).where(StaffUser.slug == slug, StaffUser.username == username))
            created = user is None
            if user is None:
                user = StaffUser(slug=slug, username=username, display_name=display_name or username)
                session.add(user)
            elif display_name is not None:
                user.display_name = display_name
            user.password_hash = hash_password(password)
            session.flush()
            session.execute(delete(StaffSession).where(StaffSession.staff_id == user.id))
            session.commit()
    finally:
        engine.dispose()
    name = found.municipality.name
    where = f"{settings.base_url}/{slug}/verwaltung/anmelden"
    if created:
        return f"Zugang „{username}“ für {name} angelegt. Anmeldung unter {where}"
    return f"Neues Passwort für „{username}“ ({name}) gespeichert; bisherige Anmeldungen sind beendet."
