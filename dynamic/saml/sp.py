"""The portal as SAML 2.0 service provider of the state identity provider (BundID interface).

The flow: `POST /saml/login` sends a signed AuthnRequest asking for a level; the identity
provider posts its answer to `POST /saml/acs`, which checks it completely and parks the
verified result in the request's row; the browser is sent on to `GET /saml/abschluss`,
where the answer is bound to the browser that asked (its session cookie, which the
cross-site POST does not carry) and the citizen is logged in.

Every check works across processes: open requests and seen assertions live in the database.
Nothing personal goes into logs; a refusal is logged with its reason only.

This module holds the routes (start, ACS, completion, logout); the service provider's
configuration and client are in provider.py, the checks of an answer in answer.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Flask, current_app, redirect, request, session
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.saml import NAMEID_FORMAT_TRANSIENT, AuthnContextClassRef, NameID
from saml2.samlp import RequestedAuthnContext
from sqlalchemy import delete
from werkzeug.wrappers import Response

from portal.levels import TrustLevel, is_level

from ..accounts.state_login import Clash, VerifiedIdentity, take_state_login
from ..platform import auth, config
from ..platform.db import db, session_scope
from ..platform.models import SamlRequest, utcnow
from ..platform.render import page
from ..platform.security import CONTENT_SECURITY_POLICY, csrf
from . import bundid
from .answer import OTHER_ACCOUNT, OTHER_BROWSER, OTHER_PSEUDONYM, Refused, verify
from .metadata import SERVICE_PROVIDER, publish
from .provider import REQUEST_LIFETIME, ServiceProvider, service_provider, sp_keys, sp_metadata_xml

__all__ = ["forget_stale_requests", "forget_unfinished_logins", "idp_logout_url", "refused_page", "saml",
           "service_provider", "sp_keys"]

saml = Blueprint("saml", __name__, url_prefix="/saml")
log = logging.getLogger(__name__)


@saml.record_once
def _publish_metadata(state: Any) -> None:
    publish(state.app, SERVICE_PROVIDER, sp_metadata_xml)


@saml.get("/metadata")
def metadata() -> Response:
    return Response(sp_metadata_xml(current_app._get_current_object()),  # type: ignore[attr-defined]
                    mimetype="application/samlmetadata+xml")


@saml.post("/login")
def login() -> Response | tuple[str, int]:
    level = request.form.get("stufe", "basis")
    if not is_level(level):
        level = "basis"
    return_to = auth.safe_return(request.form.get("weiter"))
    sp = service_provider()
    wanted = RequestedAuthnContext(authn_context_class_ref=[AuthnContextClassRef(text=TrustLevel(level).stork)],
                                   comparison="minimum")
    # What BundID needs beyond SAML: the means allowed and the attributes this login's purpose
    # needs (bundid.py); the purpose is where the citizen returns to.
    asked = bundid.extensions(level, bundid.requested_attributes(bundid.prefill_sources(return_to)))
    signing = {"sign": True, "sigalg": sp.policy.signing_algorithm, "digest_alg": sp.policy.digest_algorithm}
    post_to = _sso_location(sp, BINDING_HTTP_POST)
    if post_to is not None:
        # HTTP-POST, BundID's preferred binding: the signature inside the XML.
        request_id, authn_request = sp.client.create_authn_request(
            post_to, binding=BINDING_HTTP_POST, sign=True, sign_alg=signing["sigalg"],
            digest_alg=signing["digest_alg"], requested_authn_context=wanted, extensions=asked)
        answer: Response | tuple[str, int] = _post_page(post_to, base64.b64encode(
            str(authn_request).encode("utf-8")).decode("ascii"))
    else:
        # HTTP-Redirect, where the identity provider's metadata offers nothing else.
        request_id, info = sp.client.prepare_for_authenticate(
            entityid=sp.idp_entity_id, relay_state="", binding=BINDING_HTTP_REDIRECT, requested_authn_context=wanted,
            extensions=asked, **signing)
        answer = redirect(dict(info["headers"])["Location"], code=303)
    forget_stale_requests()
    db().add(SamlRequest(id=request_id, level=level, return_to=return_to))
    db().commit()
    session["saml_request"] = request_id
    log.info("SAML login started for level %s", level)
    return answer


def _sso_location(sp: ServiceProvider, binding: str) -> str | None:
    """The identity provider's single sign-on address for `binding`, if its metadata offers one."""
    try:
        services = sp.client.metadata.single_sign_on_service(sp.idp_entity_id, binding)
    except Exception:  # noqa: BLE001 - pysaml2 raises when the binding is missing
        return None
    return str(services[0]["location"]) if services else None


def _post_page(destination: str, encoded: str) -> Response:
    """The page that sends the request on by itself (a script), or with its button without
    JavaScript. Its form posts to the identity provider, so that origin joins form-action."""
    html, status = page("saml/anfrage.html", "Weiter zum Servicekonto", action=destination, saml_request=encoded)
    response = Response(html, status=status, mimetype="text/html")
    parts = urlsplit(destination)
    policy = current_app.config.get("CONTENT_SECURITY_POLICY", CONTENT_SECURITY_POLICY)
    response.headers["Content-Security-Policy"] = policy.replace(
        "form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}")
    return response


def forget_stale_requests() -> None:
    """Requests nobody answered in time, and answers nobody picked up (they hold personal
    data), go; the caller commits."""
    db().execute(delete(SamlRequest).where(SamlRequest.created_at < utcnow() - REQUEST_LIFETIME))


def forget_unfinished_logins(app: Flask, now: dt.datetime | None = None) -> int:
    """Periodic job: the same as forget_stale_requests, without waiting for the next login.
    A verified answer whose browser never came back (window closed, connection lost) holds
    the citizen's name, address, birth date and pseudonym; it goes once the request's 15
    minutes are over. Returns how many requests went."""
    now = now or config.now(app)
    with session_scope(app) as session:
        result = session.execute(delete(SamlRequest).where(SamlRequest.created_at < now - REQUEST_LIFETIME))
        return int(getattr(result, "rowcount", 0) or 0)


@saml.post("/acs")
@csrf.exempt
def acs() -> Response | tuple[str, int]:
    try:
        verified = verify(service_provider(), request.form.get("SAMLResponse", ""))
    except Refused as refusal:
        log.info("SAML response refused: %s", refusal.reason)
        return refused_page(refusal)
    return redirect("/saml/abschluss?" + urlencode({"anfrage": verified.request_id}), code=303)


def refused_page(refusal: Refused, logged_in: bool = False) -> tuple[str, int]:
    """The refusal; a citizen who is still logged in goes back to Mein Konto, not to the login."""
    if logged_in:
        return page("konto/fehler.html", refusal.title, status=refusal.status, message=refusal.message)
    return page("konto/fehler.html", refusal.title, status=refusal.status, message=refusal.message,
                back="/konto/anmelden", back_label="Zurück zur Anmeldung")


# ---------------------------------------------------------------- completing the login


@saml.get("/abschluss")
def complete() -> Response | tuple[str, int]:
    request_id = request.args.get("anfrage", "")
    row = db().get(SamlRequest, request_id) if request_id else None
    if not request_id or session.get("saml_request") != request_id or row is None or row.result is None:
        log.info("SAML completion refused: not the browser that asked, or no answer waiting")
        return refused_page(Refused("completion without matching request", OTHER_BROWSER))
    result = row.result
    level, bpk2 = str(result["level"]), str(result["bpk2"])
    reached = TrustLevel(level)  # the level reached → the source of stored values, the means "Mein Konto" names
    account = take_state_login(VerifiedIdentity(bpk2, dict(result.get("values") or {}), reached.row.source,
                                                reached.verified))
    if isinstance(account, Clash):
        if account is Clash.OTHER_ACCOUNT:
            refusal = Refused(account.value, OTHER_ACCOUNT, status=409,
                              title="Servicekonto gehört zu einem anderen Konto")
        else:
            refusal = Refused(account.value, OTHER_PSEUDONYM, status=409, title="Konto schon verknüpft")
        db().delete(row)
        db().commit()
        log.info("SAML completion refused: %s", refusal.reason)
        return refused_page(refusal, logged_in=True)
    return_to = row.return_to
    db().delete(row)
    db().commit()
    auth.start_login(account, level, reached.row.means.value)
    # After start_login, which clears the session: what a later logout at the IdP needs.
    session["saml_login"] = {"name_id": result.get("name_id"), "session_index": result.get("session_index")}
    log.info("SAML login completed at level %s", level)
    return redirect(auth.safe_return(return_to), code=303)


# ---------------------------------------------------------------- logout


def idp_logout_url(login: auth.Login) -> str | None:
    """Where to send the browser to end the identity provider's session too (a signed
    LogoutRequest, HTTP-Redirect), or None when the login did not come over SAML or the
    identity provider offers no single logout. Call it before the local login ends."""
    remembered = session.get("saml_login")
    if not isinstance(remembered, dict) or not remembered.get("name_id"):
        return None
    sp = service_provider()
    try:
        services = sp.client.metadata.single_logout_service(sp.idp_entity_id, BINDING_HTTP_REDIRECT, "idpsso")
    except Exception:  # noqa: BLE001 - metadata without the element raises; both mean "no logout there"
        services = []
    if not services:
        return None
    destination = services[0]["location"]
    _request_id, logout_request = sp.client.create_logout_request(
        destination, sp.idp_entity_id, name_id=NameID(format=NAMEID_FORMAT_TRANSIENT, text=remembered["name_id"]),
        session_indexes=[remembered["session_index"]] if remembered.get("session_index") else None, sign=False)
    info = sp.client.apply_binding(BINDING_HTTP_REDIRECT, str(logout_request), destination, relay_state="",
                                   sign=True, sigalg=sp.policy.signing_algorithm)
    log.info("logout at the identity provider requested")
    return str(dict(info["headers"])["Location"])


@saml.get("/logout")
def logged_out_at_idp() -> Response | tuple[str, int]:
    """The identity provider's LogoutResponse. The local login ended before the browser went
    there, so whatever the answer says, the citizen is logged out here."""
    if "SAMLResponse" in request.args:
        try:
            answer = service_provider().client.parse_logout_request_response(
                request.args["SAMLResponse"], BINDING_HTTP_REDIRECT)
            log.info("identity provider logout %s", "done" if answer is not None and answer.status_ok()
                     else "not confirmed")
        except Exception as error:  # noqa: BLE001 - an unreadable answer changes nothing here
            log.info("identity provider logout answer unreadable (%s)", type(error).__name__)
        return redirect("/konto/abgemeldet", code=303)
    # Logout started at the identity provider (another service's logout) is not supported:
    # say so instead of pretending the citizen was logged out here.
    log.info("logout request from the identity provider not supported")
    return page("konto/fehler.html", "Abmelden nicht möglich", status=400, back="/konto/abmelden",
                back_label="Im Bürgerportal abmelden",
                message="Das Servicekonto hat eine Abmeldung angefordert, die das Bürgerportal so nicht annehmen "
                        "kann. Bitte melden Sie sich im Bürgerportal selbst ab.")
