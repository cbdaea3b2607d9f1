"""The clerk's command-line client for the office API: fetch the office's applications,
decrypt them with the office's private key, confirm receipt, answer into the citizen's inbox.

    python -m dynamic.clerk keygen DIR
    python -m dynamic.clerk --portal URL --token TOKEN --key private.jwk list [--status new|received|all]
    python -m dynamic.clerk ... fetch [REFERENCE ...] --out DIR     # decrypts, saves files, confirms receipt
    python -m dynamic.clerk ... messages REFERENCE                     # the citizen's answers, decrypted
    python -m dynamic.clerk ... answer REFERENCE --subject S --body B [--attach FILE ...] [--decision]

TOKEN and the key file can also come from BUERGERPORTAL_TOKEN and BUERGERPORTAL_KEY. The
private key never leaves the office: the portal only ever sees the public half.
"""

from __future__ import annotations

import argparse
import base64
import json
import mimetypes
import os
import sys
from pathlib import Path
from typing import Any

import requests

from .forms.crypto import Unreadable, decrypt, new_office_key

TIMEOUT = 30


class ClerkError(Exception):
    pass


class Client:
    def __init__(self, portal: str, token: str, private_jwk: dict[str, Any] | None = None) -> None:
        self.portal, self.private_jwk = portal.rstrip("/"), private_jwk
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"{self.portal}/api/v1{path}", timeout=TIMEOUT, **kwargs)
        if response.status_code >= 400:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise ClerkError(f"{method} {path}: {response.status_code} {message}")
        return response.json()

    def applications(self, status: str = "new") -> list[dict[str, Any]]:
        return list(self._call("GET", "/applications", params={"status": status})["applications"])

    def application(self, reference: str) -> dict[str, Any]:
        """The application, decrypted with the office's key (Unreadable if it was changed)."""
        found = self._call("GET", f"/applications/{reference}")
        if self.private_jwk is None:
            raise ClerkError("the office's private key is needed to read an application")
        return {**found, "content": decrypt(found["jwe"], self.private_jwk)}

    def confirm(self, reference: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/applications/{reference}/receipt"))

    def messages(self, reference: str) -> list[dict[str, Any]]:
        found = self._call("GET", f"/applications/{reference}/messages")["messages"]
        for message in found:
            if message.get("jwe") and self.private_jwk is not None:
                message["content"] = decrypt(message["jwe"], self.private_jwk)
        return list(found)

    def answer(self, reference: str, subject: str, body: str, attachments: list[Path] = (),  # type: ignore[assignment]
               decision: bool = False) -> dict[str, Any]:
        files = [{"name": path.name, "content_type": mimetypes.guess_type(path.name)[0] or "application/pdf",
                  "data": base64.b64encode(path.read_bytes()).decode()} for path in attachments]
        return dict(self._call("POST", f"/applications/{reference}/messages",
                               json={"subject": subject, "body": body, "decision": decision, "attachments": files}))


def save_application(found: dict[str, Any], folder: Path) -> Path:
    """Write a decrypted application as antrag.json, a readable antrag.txt and its files."""
    content = found["content"]
    target = folder / found["reference"]
    target.mkdir(parents=True, exist_ok=True)
    files = content.get("files", [])
    listing = {k: v for k, v in content.items() if k != "files"}
    listing["files"] = [{k: f[k] for k in ("field", "name", "content_type", "size")} for f in files]
    (target / "antrag.json").write_text(json.dumps(listing, ensure_ascii=False, indent=2), encoding="utf-8")
    lines = [f"{content['form']['title']} – {content['reference']}", f"Eingegangen: {content['submitted_at']}",
             f"Identifiziert mit Vertrauensniveau {content['identification']['trust_level']}", ""]
    for answer in content.get("answers", []):
        lines.append(f"{answer['label']}: {answer['text']}" + (" (bestätigt)" if answer.get("verified") else ""))
    (target / "antrag.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for number, file in enumerate(files, 1):
        name = Path(file["name"]).name or f"datei-{number}"
        (target / f"{number}-{name}").write_bytes(base64.b64decode(file["data"]))
    return target


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m dynamic.clerk", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--portal", default=os.environ.get("BUERGERPORTAL_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("BUERGERPORTAL_TOKEN"))
    parser.add_argument("--key", type=Path, default=os.environ.get("BUERGERPORTAL_KEY"),
                        help="the office's private key (JWK file)")
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="make a key pair: private.jwk stays, public.jwk goes to the portal")
    keygen.add_argument("folder", type=Path)
    keygen.add_argument("--force", action="store_true", help="replace an existing key (earlier applications "
                                                              "then stay readable only with the old key)")
    listing = commands.add_parser("list", help="list the office's applications")
    listing.add_argument("--status", default="new", choices=("new", "received", "all"))
    fetch = commands.add_parser("fetch", help="fetch, decrypt, save and confirm applications")
    fetch.add_argument("references", nargs="*", help="default: every new application")
    fetch.add_argument("--out", type=Path, default=Path("antraege"))
    fetch.add_argument("--no-confirm", action="store_true", help="do not confirm receipt")
    messages = commands.add_parser("messages", help="the messages about an application, decrypted")
    messages.add_argument("reference")
    answer = commands.add_parser("answer", help="send a message or decision into the citizen's inbox")
    answer.add_argument("reference")
    answer.add_argument("--subject", required=True)
    answer.add_argument("--body", required=True)
    answer.add_argument("--attach", type=Path, action="append", default=[])
    answer.add_argument("--decision", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(sys.argv[1:] if argv is None else argv)
    if args.command == "keygen":
        target = args.folder / "private.jwk"
        if target.exists() and not args.force:
            print(f"Fehler: {target} gibt es schon. Mit einem neuen Schlüssel sind früher empfangene Anträge "
                  "nicht mehr lesbar; bewahren Sie den alten auf und nehmen Sie --force.", file=sys.stderr)
            return 2
        private, public = new_office_key()
        args.folder.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        # Created readable for the owner only, before anything is written into it.
        with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as out:
            out.write(json.dumps(private))
        (args.folder / "public.jwk").write_text(json.dumps(public), encoding="utf-8")
        print(f"{args.folder / 'private.jwk'} (geheim halten)\n{args.folder / 'public.jwk'} (an das Portal geben)")
        return 0
    if not args.token:
        print("Fehler: --token oder BUERGERPORTAL_TOKEN fehlt", file=sys.stderr)
        return 2
    try:
        key = json.loads(Path(args.key).read_text(encoding="utf-8")) if args.key else None
    except (OSError, ValueError) as error:
        print(f"Fehler: den Schlüssel {args.key} kann ich nicht lesen ({error})", file=sys.stderr)
        return 2
    client = Client(args.portal, args.token.strip(), key)
    try:
        if args.command == "list":
            for item in client.applications(args.status):
                print(f"{item['reference']}\t{item['form']}\t{item['submitted_at']}\t{item['status']}")
        elif args.command == "fetch":
            references = args.references or [a["reference"] for a in client.applications("new")]
            for reference in references:
                folder = save_application(client.application(reference), args.out)
                if not args.no_confirm:
                    client.confirm(reference)
                print(f"{reference}\t{folder}")
        elif args.command == "messages":
            for message in client.messages(args.reference):
                text = message.get("content", {}).get("body", "")
                print(f"[{message['created_at']}] {message['direction']}: {message['subject']}\n{text}\n")
        elif args.command == "answer":
            sent = client.answer(args.reference, args.subject, args.body, args.attach, args.decision)
            print(f"zugestellt: Nachricht {sent['id']}")
    except (ClerkError, requests.RequestException) as error:
        print(f"Fehler: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"Fehler: {error}", file=sys.stderr)
        return 2
    except Unreadable:
        print("Fehler: entschlüsseln nicht möglich – der Inhalt wurde verändert oder ist nicht für diesen "
              "Schlüssel bestimmt.", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
