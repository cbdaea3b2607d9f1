"""The clerk's command-line client for the office API: fetch the office's applications,
decrypt them with the office's private key, confirm receipt, answer into the citizen's inbox.

    python -m dynamic.clerk keygen DIR
    python -m dynamic.clerk --portal URL --token TOKEN --key private.jwk list [--status new|received|all]
    python -m dynamic.clerk ... fetch [REFERENCE ...] --out DIR     # decrypts, saves files, confirms receipt
    python -m dynamic.clerk ... messages REFERENCE [--out DIR]         # the citizen's answers, decrypted, files saved
    python -m dynamic.clerk ... answer REFERENCE --subject S --body B [--attach FILE ...] [--decision]

TOKEN and the keys can also come from BUERGERPORTAL_TOKEN and BUERGERPORTAL_KEY. --key may be
given several times, and names a private JWK, a JWKS file ({"keys": [...]}) or a folder whose
*.jwk are read (public halves in it are skipped); BUERGERPORTAL_KEY may name several, separated
by the system's path separator (":" on Linux). Each application is decrypted with the key its
JWE names by kid, so after a change of key the old and the new key are simply given together.
The private key never leaves the office: the portal only ever sees the public half.

fetch without references goes through every new application: one it cannot decrypt is
reported (reference, kid, cause), neither saved nor confirmed, and the rest are. An application
of format version 2 lists its files and its PDF as attachments: each is fetched on its own,
decrypted and checked against the SHA-512 the application lists; one that does not decrypt or
does not match makes its application refused in the same way. The PDF is saved as antrag.pdf.

Exit status: 0 done; 1 the portal refused or could not be reached, or some applications could
not be decrypted (the others are saved); 2 a file or key cannot be read or written; 3 nothing
could be decrypted (a wrong or missing key, or a changed application).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import mimetypes
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

from dynamic.platform.crypto import (
    MAX_JWE_BYTES,
    Changed,
    ForAnotherKey,
    TooLarge,
    Unreadable,
    decrypt,
    key_ids,
    new_office_key,
)
from portal.errors import PortalError

TIMEOUT = 60  # an application with large uploads is many megabytes
PAGES = 10_000  # more pages than any office's list has: a cursor that never ends is the portal's fault


class ClerkError(PortalError):
    pass


class Refused(PortalError):
    """An attachment that cannot be used: it does not decrypt, is not the one the application
    lists (another hash, id or application), or the portal does not give it. The message
    names it and the cause, in German."""


APPLICATION_PDF = "antrag-pdf"  # the field of the application's own PDF among its attachments


def load_keys(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """The private keys in `paths`: JWK files, JWKS files, folders of *.jwk (public keys in a
    folder or JWKS are skipped; a file that holds only public keys is refused). A key given
    twice counts once. OSError or ValueError when a file cannot be read or holds no key."""
    found: dict[str, dict[str, Any]] = {}
    for path in paths:
        files = sorted(path.glob("*.jwk")) if path.is_dir() else [path]
        privates = []
        for file in files:
            value = json.loads(file.read_text(encoding="utf-8"))
            if not isinstance(value, dict):
                raise ValueError(f"{file}: expected a JWK or JWKS (a JSON object)")
            listed = value.get("keys") if "keys" in value else [value]
            if not isinstance(listed, list) or not all(isinstance(k, dict) for k in listed):
                raise ValueError(f"{file}: \"keys\" must be a list of JWKs")
            privates += [k for k in listed if "d" in k]
        if not privates:
            raise ValueError(f"{path}: no private key (a JWK with d)" + (" in *.jwk" if path.is_dir() else ""))
        for key in privates:
            found.setdefault(key_ids(key)[0], key)
    return list(found.values())


class Client:
    def __init__(self, portal: str, token: str,
                 keys: dict[str, Any] | Sequence[dict[str, Any]] | None = None) -> None:
        """`keys`: the office's private key, or several (chosen by the kid each JWE names)."""
        self.portal = portal.rstrip("/")
        self.keys: list[dict[str, Any]] = [keys] if isinstance(keys, dict) else list(keys or [])
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

    def applications(self, status: str = "new", limit: int | None = None) -> list[dict[str, Any]]:
        """Every application with `status`, page by page: the portal's `next` cursor is passed
        back as `after` until it is null or absent (an API without paging answers in one page)."""
        params: dict[str, str | int] = {"status": status, **({"limit": limit} if limit else {})}
        found: list[dict[str, Any]] = []
        seen: set[str] = set()
        for _page in range(PAGES):
            answer = self._call("GET", "/applications", params=params)
            found += answer["applications"]
            cursor = answer.get("next")
            if not cursor:
                return found
            if cursor in seen:
                raise ClerkError(f"GET /applications: the portal gave the cursor {cursor!r} a second time")
            seen.add(cursor)
            params = {**params, "after": cursor}
        raise ClerkError(f"GET /applications: more than {PAGES} pages")

    def application(self, reference: str, attachments: bool = True) -> dict[str, Any]:
        """The application, decrypted with the key its JWE names (Unreadable says why not), with
        its attachments (format version 2) fetched and checked as `attachment_data` (see
        attachments_of: Refused when one cannot be used)."""
        found = self._call("GET", f"/applications/{reference}")
        if not self.keys:
            raise ClerkError("the office's private key is needed to read an application")
        found = {**found, "content": decrypt(found["jwe"], self.keys)}
        if attachments:
            found["attachment_data"] = attachments_of(self, found)
        return found

    def attachment(self, reference: str, attachment_id: str) -> dict[str, Any]:
        """One attachment of an application, with `content`: the JSON its JWE holds, decrypted."""
        found = self._call("GET", f"/applications/{reference}/attachments/{attachment_id}")
        return {**found, "content": decrypt(found["jwe"], self.keys)}

    def confirm(self, reference: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/applications/{reference}/receipt"))

    def messages(self, reference: str) -> list[dict[str, Any]]:
        found = self._call("GET", f"/applications/{reference}/messages")["messages"]
        for message in found:
            if message.get("jwe") and self.keys:
                message["content"] = decrypt(message["jwe"], self.keys)
        return list(found)

    def answer(self, reference: str, subject: str, body: str, attachments: list[Path] = (),  # type: ignore[assignment]
               decision: bool = False) -> dict[str, Any]:
        files = [{"name": path.name, "content_type": mimetypes.guess_type(path.name)[0] or "application/pdf",
                  "data": base64.b64encode(path.read_bytes()).decode()} for path in attachments]
        return dict(self._call("POST", f"/applications/{reference}/messages",
                               json={"subject": subject, "body": body, "decision": decision, "attachments": files}))


def attachments_of(client: Client, found: dict[str, Any]) -> dict[str, tuple[str, bytes]]:
    """Format version 2: every attachment the decrypted application lists (its uploads and its
    PDF), fetched one by one and decrypted, as id → (field, bytes). Each must hash to the
    SHA-512 the application lists and name this application and id; otherwise Refused, and
    nothing of the application should be kept. Version 1 (files inline) has none."""
    reference, listed = found["reference"], found["content"].get("attachments") or []
    fetched: dict[str, tuple[str, bytes]] = {}
    for entry in listed:
        label = f"Anhang {entry.get('name')} ({entry.get('id')})"
        try:
            content = client.attachment(reference, str(entry["id"]))["content"]
        except Unreadable as error:
            raise Refused(f"{label} {_unreadable(error)}") from error
        except ClerkError as error:
            raise Refused(f"{label}: nicht abrufbar – {error}.") from error
        try:
            data = base64.b64decode(str(content.get("data", "")), validate=True)
        except (binascii.Error, ValueError) as error:
            raise Refused(f"{label}: der Inhalt ist kein Base64 – verändert oder beschädigt.") from error
        if content.get("id") != entry["id"] or str(content.get("reference", "")).upper() != reference.upper():
            raise Refused(f"{label}: gehört zu einem anderen Antrag oder Anhang – vertauscht.")
        if hashlib.sha512(data).hexdigest() != entry["sha512"]:
            raise Refused(f"{label}: der SHA-512 des Inhalts stimmt nicht mit dem im Antrag überein – verändert "
                          "oder vertauscht.")
        fetched[entry["id"]] = (str(content.get("field", "")), data)
    return fetched


def save_application(found: dict[str, Any], folder: Path,
                     attachments: dict[str, tuple[str, bytes]] | None = None) -> Path:
    """Write a decrypted application as antrag.json, a readable antrag.txt and its files: inline
    (format version 1) or from `attachments` (version 2, see attachments_of; by default what
    Client.application fetched), which also gives antrag.pdf, the PDF of the whole application."""
    content = found["content"]
    attachments = found.get("attachment_data", {}) if attachments is None else attachments
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
        data = attachments[file["id"]][1] if file.get("id") in attachments else base64.b64decode(file["data"])
        (target / f"{number}-{name}").write_bytes(data)
    for field, data in attachments.values():
        if field == APPLICATION_PDF:
            (target / "antrag.pdf").write_bytes(data)
    return target


def save_reply_files(message: dict[str, Any], folder: Path) -> list[Path]:
    """The files of a decrypted answer of the citizen, written as <message id>-<n>-<name>."""
    written = []
    for number, file in enumerate(message.get("content", {}).get("files") or [], 1):
        name = Path(str(file.get("name", ""))).name or f"datei-{number}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{message['id']}-{number}-{name}"
        target.write_bytes(base64.b64decode(str(file["data"])))
        written.append(target)
    return written


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m dynamic.clerk", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--portal", default=os.environ.get("BUERGERPORTAL_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("BUERGERPORTAL_TOKEN"))
    parser.add_argument("--key", type=Path, action="append", dest="keys",
                        help="the office's private key: a JWK file, a JWKS file or a folder of *.jwk; repeatable "
                             "(default: BUERGERPORTAL_KEY, several separated by os.pathsep)")
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="make a key pair: private.jwk stays, public.jwk goes to the portal")
    keygen.add_argument("folder", type=Path)
    keygen.add_argument("--force", action="store_true", help="replace an existing key (earlier applications "
                                                              "then stay readable only with the old key)")
    listing = commands.add_parser("list", help="list the office's applications")
    listing.add_argument("--status", default="new", choices=("new", "received", "rejected", "all"))
    fetch = commands.add_parser("fetch", help="fetch, decrypt, save and confirm applications")
    fetch.add_argument("references", nargs="*", help="default: every new application")
    fetch.add_argument("--out", type=Path, default=Path("antraege"))
    fetch.add_argument("--no-confirm", action="store_true", help="do not confirm receipt")
    messages = commands.add_parser("messages", help="the messages about an application, decrypted")
    messages.add_argument("reference")
    messages.add_argument("--out", type=Path, default=Path("antraege"),
                          help="files attached to the citizen's answers go to OUT/REFERENCE/antworten/")
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
    paths = args.keys or [Path(p) for p in os.environ.get("BUERGERPORTAL_KEY", "").split(os.pathsep) if p]
    try:
        keys = load_keys(paths)
    except (OSError, ValueError) as error:
        print(f"Fehler: den Schlüssel {' / '.join(map(str, paths))} kann ich nicht lesen ({error})", file=sys.stderr)
        return 2
    client = Client(args.portal, args.token.strip(), keys)
    try:
        if args.command == "list":
            for item in client.applications(args.status):
                print(f"{item['reference']}\t{item['form']}\t{item['submitted_at']}\t{item['status']}")
        elif args.command == "fetch":
            return _fetch(client, args.references, args.out, confirm=not args.no_confirm)
        elif args.command == "messages":
            for message in client.messages(args.reference):
                text = message.get("content", {}).get("body", "")
                print(f"[{message['created_at']}] {message['direction']}: {message['subject']}\n{text}\n")
                for path in save_reply_files(message, args.out / args.reference.upper() / "antworten"):
                    print(f"Anhang: {path}")
        elif args.command == "answer":
            sent = client.answer(args.reference, args.subject, args.body, args.attach, args.decision)
            print(f"zugestellt: Nachricht {sent['id']}")
    except (ClerkError, requests.RequestException) as error:
        print(f"Fehler: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"Fehler: {error}", file=sys.stderr)
        return 2
    except Unreadable as error:
        print(f"Fehler: {getattr(args, 'reference', '')} {_unreadable(error)}", file=sys.stderr)
        return 3
    return 0


def _fetch(client: Client, references: list[str], out: Path, confirm: bool) -> int:
    """Fetch, save and confirm each application; one that cannot be decrypted is reported and
    the rest still fetched. Raises what stops the whole run (the portal, the disk)."""
    references = references or [a["reference"] for a in client.applications("new")]
    unreadable = []
    for reference in references:
        try:
            found = client.application(reference)
        except Unreadable as error:
            print(f"Fehler: {reference} {_unreadable(error)} Nicht gespeichert, Eingang nicht "
                  "bestätigt.", file=sys.stderr)
            unreadable.append(reference)
            continue
        except Refused as error:
            print(f"Fehler: {reference} {error} Nicht gespeichert, Eingang nicht bestätigt.", file=sys.stderr)
            unreadable.append(reference)
            continue
        folder = save_application(found, out)
        if confirm:
            client.confirm(reference)
        print(f"{reference}\t{folder}", flush=True)
    if not unreadable:
        return 0
    print(f"Fehler: {len(unreadable)} von {len(references)} Anträgen nicht entschlüsselt oder mit einem "
          f"unbrauchbaren Anhang: {', '.join(unreadable)}", file=sys.stderr)
    return 3 if len(unreadable) == len(references) else 1


def _unreadable(error: Unreadable) -> str:
    """Why an application or message cannot be read, for the clerk: "(kid …): entschlüsseln …"."""
    if isinstance(error, TooLarge):
        cause = (f"zu groß ({error.size:,} Bytes; dieses Programm liest höchstens {MAX_JWE_BYTES:,})"
                 .replace(",", "."))
    elif isinstance(error, ForAnotherKey):
        cause = (f"für einen anderen Schlüssel verschlüsselt; geladen: kid {', '.join(error.available)}"
                 if error.available else "kein privater Schlüssel angegeben (--key oder BUERGERPORTAL_KEY)")
    elif isinstance(error, Changed) and not error.kid:
        cause = "der Inhalt wurde verändert, ist beschädigt oder für einen anderen Schlüssel bestimmt"
    else:
        cause = "der Inhalt wurde verändert oder ist beschädigt"
    return f"(kid {error.kid or 'nicht angegeben'}): entschlüsseln nicht möglich – {cause}."


if __name__ == "__main__":
    sys.exit(main())
