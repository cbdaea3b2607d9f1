"""The metadata of this app's two SAML parties, published as files.

The service provider (sp.py) and the development identity provider (dev_idp.py) know each
other only as any SAML partner knows the other: from its metadata. Each party says how its
metadata is made (`publish`, when its blueprint is registered); the other asks for the file
(`published`), which is written under var/saml/metadata/ the first time it is asked for in
an app, so an app that never sees a SAML login makes no keys. In production the identity
provider's metadata is the operator's file (SAML_IDP_METADATA) instead.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from ..platform import config
from .keys import SamlSetupError

SERVICE_PROVIDER = "sp"
DEVELOPMENT_IDP = "dev-idp"


def publish(app: Flask, party: str, make: Callable[[Flask], str]) -> None:
    """`party` of `app` publishes the metadata that make(app) returns."""
    app.extensions.setdefault("saml_metadata_makers", {})[party] = make


def published(app: Flask, party: str) -> Path:
    """The file with `party`'s metadata, written on the first call in `app`."""
    files: dict[str, Path] = app.extensions.setdefault("saml_metadata_files", {})
    if party not in files:
        make = app.extensions.get("saml_metadata_makers", {}).get(party)
        if make is None:
            raise SamlSetupError(f"the SAML party {party!r} does not run in this app, so it has no metadata")
        folder = config.settings(app).var_dir / "saml" / "metadata"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{party}.xml"
        # Written whole and renamed into place: another process may read it at any time.
        handle, scratch = tempfile.mkstemp(prefix=f".{party}-", suffix=".xml", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(make(app))
        os.replace(scratch, target)
        files[party] = target
    return files[party]
