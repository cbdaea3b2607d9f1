"""`build.py office SLUG UNIT …`: register an office that receives applications (its public
key, its API token, its webhook, its delivery channel), or change one of them."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..platform.commands import EXIT_INPUT, EXIT_OK, Command

if TYPE_CHECKING:
    from .delivery import Waiting


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("slug")
    parser.add_argument("unit", help="the unit id of the office in the municipality's content")
    parser.add_argument("--public-key", type=Path, default=None,
                        help="the office's public key (JWK, RSA); required for a new office")
    parser.add_argument("--replace-key", action="store_true",
                        help="replace a registered key that differs from --public-key (applications still waiting "
                             "need the old private key)")
    parser.add_argument("--new-token", action="store_true", help="a new API token; the old one stops working at once")
    webhook = parser.add_mutually_exclusive_group()
    webhook.add_argument("--webhook", default=None, help="https address the portal pushes new applications to")
    webhook.add_argument("--no-webhook", action="store_true", help="push no more (remove the webhook)")
    channel = parser.add_mutually_exclusive_group()
    channel.add_argument("--fit-connect", default=None, metavar="DESTINATION",
                         help="deliver through FIT-Connect to this destination id (UUID), or 'routing' to find the "
                              "destination by the service's LeiKa key and the town's regional key")
    channel.add_argument("--own-api", action="store_true", help="deliver through the office API only (the default)")


def _waiting_line(prefix: str, waiting: Waiting | None) -> str:
    applications, messages = (waiting.applications, waiting.messages) if waiting else (0, 0)
    return f'{prefix}: {applications} application(s) with status "new", {messages} citizen message(s) not fetched.'


def register_office(args: argparse.Namespace) -> int:
    """Register an office (its public key encrypts the applications it receives; the token
    printed once is its key to the office API), or change its key, token or webhook: a
    different key only with --replace-key, nothing else touched than what was asked."""
    import json

    from .. import create_app
    from ..platform import config
    from ..platform.config import settings_from_env
    from ..platform.db import engine, session_scope
    from .delivery import KeyConflict, NoOffice, change_office, kid_of, waiting_under
    from .fitconnect import describe_channel, is_destination_id, switch_channel

    out = args.out
    if out == config.ROOT / "output" and os.environ.get("PORTAL_OUTPUT_DIR"):
        out = Path(os.environ["PORTAL_OUTPUT_DIR"])  # as the app itself reads it, unless --out says otherwise
    katalog = out / args.slug / "katalog.json"
    units = json.loads(katalog.read_text(encoding="utf-8"))["units"] if katalog.is_file() else None
    if units is None or args.unit not in units:
        print(f"Fehler: keine Stelle {args.unit!r} in {katalog} (erst bauen, dann die Kennung prüfen)",
              file=sys.stderr)
        return EXIT_INPUT
    if args.replace_key and args.public_key is None:
        print("error: --replace-key needs --public-key (the new key)", file=sys.stderr)
        return EXIT_INPUT
    public_jwk = None
    if args.public_key is not None:
        try:
            public_jwk = json.loads(args.public_key.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            print(f"Fehler: {args.public_key}: kein lesbarer JWK ({error})", file=sys.stderr)
            return EXIT_INPUT
    if args.webhook is not None and not args.webhook.startswith(("https://", "http://127.0.0.1")):
        print("Fehler: --webhook braucht eine https://-Adresse", file=sys.stderr)
        return EXIT_INPUT
    name = f"{args.slug}/{args.unit}"
    # Registering with a key gives a new token, as it always has (a leaked token is replaced so).
    new_token = args.new_token or public_jwk is not None
    if args.fit_connect is not None and args.fit_connect != "routing" and not is_destination_id(args.fit_connect):
        print(f"Fehler: --fit-connect braucht die Zustellpunkt-ID (UUID) oder 'routing', nicht {args.fit_connect!r}",
              file=sys.stderr)
        return EXIT_INPUT
    channel_asked = args.fit_connect is not None or args.own_api
    nothing_asked = (public_jwk is None and not new_token and args.webhook is None and not args.no_webhook
                     and not channel_asked)
    app = create_app(settings_from_env(output_dir=out))
    settings = config.settings(app)
    no_sender = args.fit_connect is not None and not settings.fitconnect_client_id
    if no_sender and settings.production:
        engine(app).dispose()
        print("error: --fit-connect needs the portal's FIT-Connect sender client (FITCONNECT_CLIENT_ID, "
              "FITCONNECT_CLIENT_SECRET and the endpoints); nothing was changed", file=sys.stderr)
        return EXIT_INPUT
    try:
        with session_scope(app) as session:
            change = change_office(session, args.slug, args.unit, public_jwk=public_jwk,
                                   replace_key=args.replace_key, new_token=new_token, webhook_url=args.webhook,
                                   remove_webhook=args.no_webhook)
            office = change.office
            if channel_asked:
                switch_channel(office, None if args.own_api else args.fit_connect)
            kid, webhook_url, channel = kid_of(office.public_jwk), office.webhook_url, describe_channel(office)
            waiting = waiting_under(session, office, kid) if nothing_asked else None
    except NoOffice:
        print(f"error: {name} is not registered yet: a new office needs --public-key (its public key, JWK)",
              file=sys.stderr)
        return EXIT_INPUT
    except KeyConflict as conflict:
        print(f"error: {name} is registered with a different key (kid {conflict.old_kid}); "
              f"the new one has kid {conflict.new_kid}.", file=sys.stderr)
        print(_waiting_line("Still waiting under the old key", conflict.waiting), file=sys.stderr)
        print("Nothing was changed. To replace the key, run the command again with --replace-key; what is waiting "
              f"can then be read only with the old private key (kid {conflict.old_kid}).", file=sys.stderr)
        return EXIT_INPUT
    except ValueError as error:
        print(f"Fehler: {args.public_key}: {error}", file=sys.stderr)
        return EXIT_INPUT
    finally:
        engine(app).dispose()

    if public_jwk is not None:
        print(f"Stelle {name} registriert.")
    elif nothing_asked:
        print(f"Office {name}: nothing changed (options: --public-key, --new-token, --webhook, --no-webhook).")
    else:
        print(f"Office {name} updated.")
    if change.key == "new":
        print(f"Key: kid {kid}.")
    elif change.key == "replaced":
        print(f"Key replaced: kid {change.old_kid} → kid {kid}.")
        print(_waiting_line("Still waiting under the old key", change.waiting))
        print(f"They can be read only with the old private key (kid {change.old_kid}): "
              "the office keeps it until they are fetched.")
    else:
        print(f"Key unchanged (kid {kid}).")
    if waiting is not None:
        print(_waiting_line("Waiting under this key", waiting))
    if change.token:
        print(f"API-Token (wird nur jetzt angezeigt): {change.token}")
        if not change.created:
            print("The old token no longer works.")
    else:
        print("Token unchanged.")
    if change.webhook == "set":
        if not change.created:
            print(f"Webhook set: {webhook_url}")
        print(f"Webhook-Geheimnis (Signatur X-Buergerportal-Signature): {change.webhook_secret}")
    elif change.webhook == "removed":
        print("Webhook removed.")
    elif not change.created:
        print(f"Webhook unchanged ({webhook_url or 'none'}).")
    if channel_asked:
        print(f"Delivery switched: {channel}.")
        if args.fit_connect is not None:
            print(f"The FIT-Connect destination must publish this office's key (kid {kid}) as its encryption key.")
        if no_sender:
            print("Warning: FITCONNECT_CLIENT_ID is not set; applications wait in the outbox until the sender "
                  "client is configured.")
    elif channel != "office API":
        print(f"Delivery: {channel}.")
    return EXIT_OK


OFFICE = Command(
    "office",
    help="register an office that receives applications (prints its API token), or change its key, token "
         "or webhook",
    description="Register an office (--public-key, prints its API token once) or change one thing of a "
                "registered office. A different key is refused unless --replace-key; the same key is kept and "
                "gets a new token, as --new-token does. --webhook and --no-webhook change only the webhook. "
                "Without options: what is registered and waiting.",
    run=register_office, arguments=_arguments)
