"""Issue 24: delivery through FIT-Connect, the portal as sender, against a local double of
FIT-Connect (tests/dynamic/fitconnect_double.py: token service, Routing API, Submission API).

An office switched to FIT-Connect (`build.py office … --fit-connect <destination>`) gets each
application as a submission: prepared when it is stored (metadata and every file encrypted for
the office's key, which the destination publishes), sent by the outbox worker step by step
(destination checked, submission created with its attachments announced, each attachment
uploaded, submitted with encrypted metadata and data), resumed after a failure without a
second submission, and the destination's decision (a signed security event token) reaches the
citizen's inbox. Both databases where the way through the worker is concerned."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import inspect, select, update

from dynamic import create_app
from dynamic.forms.delivery import office_of, register_office
from dynamic.forms.fitconnect import ROUTING, switch_channel
from dynamic.platform.config import ConfigError, settings_from_env
from dynamic.platform.crypto import new_office_key
from dynamic.platform.db import alembic_config, make_engine, migrate, session_scope
from dynamic.platform.models import Application, FitConnectAttachment, FitConnectSubmission, Message, OutboxItem
from dynamic.platform.outbox import process_outbox
from katalog.formschema import schema_url
from tests.dynamic.conftest import fresh_postgres_database, make_settings
from tests.dynamic.fitconnect_double import METADATA_VALIDATOR, SSP_JWKS_PATH, FitConnectDouble, new_ca
from tests.dynamic.forms_fixtures import PDF, VALID_IBAN, fill_meldebescheinigung, reference_on, send, served, upload
from tests.dynamic.test_clerk_cli import START, citizen_sends_with_proof
from tests.dynamic.test_foundation import _production_files
from tests.dynamic.test_office_api import Citizen, new_citizen
from tests.dynamic.test_office_registration import (  # noqa: F401 - fixtures
    OfficeCli,
    key_files,
    office_cli,
    portal_env,
    stored,
)

LEIKA, AGS = "99115003012000", "05515000"  # the fixture service and town
SCHEMA = schema_url("http://localhost", "meldebescheinigung", 1)


@dataclass
class Setup:
    app: Flask
    double: FitConnectDouble
    private_jwk: dict[str, Any]


def start(app_settings: dict[str, Any], double: FitConnectDouble, url: str, public_jwk: dict[str, Any],
          destination: str, **settings: Any) -> Flask:
    """The portal against the double (its self-service portal's key set included), the office
    registered with `public_jwk` and switched to `destination` (an id, or ROUTING)."""
    app_settings.update({"fitconnect_token_url": f"{url}/token", "fitconnect_submission_url": url,
                         "fitconnect_routing_url": url, "fitconnect_client_id": double.client_id,
                         "fitconnect_client_secret": double.client_secret,
                         "fitconnect_ssp_jwks_url": f"{url}{SSP_JWKS_PATH}"} | settings)
    app = create_app(make_settings(**app_settings))
    app.config["TESTING"] = True
    with session_scope(app) as session:
        register_office(session, "stadt", "buergeramt", public_jwk)
        office = office_of(session, "stadt", "buergeramt")
        assert office is not None
        switch_channel(office, destination)
    return app


@pytest.fixture
def fc(app_settings: dict[str, Any]) -> Iterator[Setup]:
    """The office registered with its key and switched to the double's destination."""
    private, public = new_office_key()
    double = FitConnectDouble(private, leika=LEIKA, region=AGS, schema_uris=[SCHEMA])
    with served(double.app) as url:
        app = start(app_settings, double, url, public, double.destination_id)
        yield Setup(app, double, private)
        app.extensions["db_engine"].dispose()


def make_due(app: Flask) -> None:
    """Time passes: whatever the outbox postponed is due now."""
    with session_scope(app) as session:
        session.execute(update(OutboxItem).where(OutboxItem.done_at.is_(None))
                        .values(not_before=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))


def row_of(app: Flask) -> FitConnectSubmission:
    with session_scope(app) as session:
        row = session.scalar(select(FitConnectSubmission))
        assert row is not None
        session.expunge(row)
        return row


def inbox_of(app: Flask, account_id: int) -> list[Message]:
    with session_scope(app) as session:
        messages = list(session.scalars(select(Message).where(Message.account_id == account_id)
                                        .order_by(Message.id)))
        session.expunge_all()
        return messages


def status_of(app: Flask, reference: str) -> str:
    with session_scope(app) as session:
        return str(session.scalar(select(Application.status).where(Application.reference == reference)))


# ---------------------------------------------------------------- end to end, both databases


def test_an_application_goes_through_fit_connect_checked_by_the_destination_and_its_acceptance_reaches_the_inbox(
        fc: Setup) -> None:
    app, double = fc.app, fc.double
    citizen = new_citizen(app)
    reference = citizen_sends_with_proof(citizen)
    assert row_of(app).status == "queued" and not double.requests  # nothing sent while the citizen waits

    process_outbox(app)

    assert double.problems == []
    [submission] = double.submissions.values()
    assert submission.submitted and double.created() == 1
    assert submission.data is not None and submission.data["reference"] == reference
    assert submission.data["form"]["schema"] == SCHEMA and submission.data["service"]["leika"] == LEIKA
    metadata = submission.metadata
    assert metadata is not None
    assert metadata["publicServiceType"]["identifier"] == f"urn:de:fim:leika:leistung:{LEIKA}"
    assert metadata["contentStructure"]["data"]["submissionSchema"] == {"schemaUri": SCHEMA,
                                                                         "mimeType": "application/json"}
    by_purpose = {a["purpose"]: a for a in metadata["contentStructure"]["attachments"]}
    assert set(by_purpose) == {"form", "attachment"}
    upload = by_purpose["attachment"]
    assert upload["filename"] == "nachweis.pdf" and upload["mimeType"] == "application/pdf"
    assert submission.attachments[upload["attachmentId"]] == PDF
    assert upload["hash"] == {"type": "sha512", "content": hashlib.sha512(PDF).hexdigest()}
    assert submission.attachments[by_purpose["form"]["attachmentId"]].startswith(b"%PDF")
    row = row_of(app)
    assert (row.status, row.submission_id, row.destination_id) == ("submitted", submission.id, double.destination_id)
    with session_scope(app) as session:  # the files are not kept twice once sent
        assert all(a.jwe == "" and a.uploaded_at for a in session.scalars(select(FitConnectAttachment)))

    make_due(app)
    process_outbox(app)

    assert row_of(app).status == "accepted" and status_of(app, reference) == "received"
    [accepted] = [m for m in inbox_of(app, citizen.account_id) if m.subject.startswith("Antrag angenommen")]
    assert reference in accepted.body and "FIT-Connect" in accepted.body
    assert accepted.link and accepted.link.endswith(f"/eingang/{reference}/")
    citizen.browser.get("/postfach/")
    assert "Antrag angenommen" in citizen.browser.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_metadata_sent_is_valid_under_fitkos_published_schema_which_catches_mistakes(fc: Setup) -> None:
    citizen_sends_with_proof(new_citizen(fc.app))
    process_outbox(fc.app)
    [submission] = fc.double.submissions.values()
    assert submission.metadata is not None
    assert list(METADATA_VALIDATOR.iter_errors(submission.metadata)) == []
    # The published schema (not our reading of it) would have caught these:
    wrong = copy.deepcopy(submission.metadata)
    wrong["contentStructure"]["attachments"][0]["purpose"] = "scan"
    wrong["additionalReferenceInfo"]["applicationDate"] = "05.12.2026"
    wrong["publicServiceType"]["identifier"] = LEIKA  # without the LeiKa URN
    problems = {e.json_path for e in METADATA_VALIDATOR.iter_errors(wrong)}
    assert problems == {"$.contentStructure.attachments[0].purpose", "$.additionalReferenceInfo.applicationDate",
                        "$.publicServiceType.identifier"}


def test_a_failure_after_the_first_attachment_is_resumed_without_a_second_submission(fc: Setup) -> None:
    app, double = fc.app, fc.double
    double.fail_once_after_first_attachment = True
    citizen = new_citizen(app)
    reference = citizen_sends_with_proof(citizen)

    process_outbox(app)

    row = row_of(app)
    assert row.submission_id is not None and row.status == "queued"
    with session_scope(app) as session:
        item = session.scalar(select(OutboxItem).where(OutboxItem.kind == "fitconnect"))
        assert item is not None and item.attempts == 1 and item.done_at is None
        assert item.last_error == "FitConnectError"
        assert [a.uploaded_at is not None for a in session.scalars(
            select(FitConnectAttachment).order_by(FitConnectAttachment.id))] == [True, False]

    make_due(app)
    process_outbox(app)

    assert double.created() == 1 and len(double.submissions) == 1
    assert double.problems == []  # among them: no attachment uploaded twice
    uploads = [r for r in double.requests if r[0] == "PUT" and "/attachments/" in r[1]]
    assert [status for _m, _p, status in uploads] == [204, 503, 204]
    assert row_of(app).status == "submitted"
    make_due(app)
    process_outbox(app)
    assert row_of(app).status == "accepted" and status_of(app, reference) == "received"


# ---------------------------------------------------------------- routing, refusals, rejection (SQLite)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_a_pinned_destination_the_routing_api_finds_it_by_leika_key_and_ags(fc: Setup) -> None:
    app, double = fc.app, fc.double
    with session_scope(app) as session:
        office = office_of(session, "stadt", "buergeramt")
        assert office is not None
        switch_channel(office, ROUTING)
    citizen_sends_with_proof(new_citizen(app))

    process_outbox(app)

    assert ("GET", "/v1/routes", 200) in double.requests
    assert row_of(app).destination_id == double.destination_id and row_of(app).status == "submitted"
    assert double.problems == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_destination_that_publishes_another_key_is_refused_and_nothing_is_sent(app_settings: dict[str, Any]) -> None:
    other_private, _other_public = new_office_key()
    _private, public = new_office_key()
    double = FitConnectDouble(other_private, leika=LEIKA, region=AGS, schema_uris=[SCHEMA])
    with served(double.app) as url:
        app = start(app_settings, double, url, public, double.destination_id)
        try:
            citizen_sends_with_proof(new_citizen(app))
            process_outbox(app)
            with session_scope(app) as session:
                item = session.scalar(select(OutboxItem).where(OutboxItem.kind == "fitconnect"))
                assert item is not None and item.last_error == "Refused" and item.done_at is None
        finally:
            app.extensions["db_engine"].dispose()
    assert double.created() == 0 and not double.submissions


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_inactive_destination_is_refused(fc: Setup) -> None:
    fc.double.status = "inactive"
    citizen_sends_with_proof(new_citizen(fc.app))
    process_outbox(fc.app)
    assert fc.double.created() == 0 and row_of(fc.app).status == "queued"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_rejection_by_the_destination_reaches_the_inbox_with_its_reason(fc: Setup) -> None:
    app, double = fc.app, fc.double
    double.decide = "reject"
    citizen = new_citizen(app)
    reference = citizen_sends_with_proof(citizen)
    process_outbox(app)
    make_due(app)
    process_outbox(app)

    assert row_of(app).status == "rejected" and status_of(app, reference) == "rejected"
    [rejected] = [m for m in inbox_of(app, citizen.account_id) if m.subject.startswith("Antrag nicht angenommen")]
    assert "Die Fachdaten passen nicht zum Fachverfahren" in rejected.body and reference in rejected.body


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_a_decision_the_worker_looks_again_later(fc: Setup) -> None:
    app, double = fc.app, fc.double
    double.decide = "none"
    citizen_sends_with_proof(new_citizen(app))
    process_outbox(app)
    for _ in range(3):  # three looks, no decision
        make_due(app)
        process_outbox(app)
    assert row_of(app).status == "submitted"
    with session_scope(app) as session:
        sending, *looks = session.scalars(select(OutboxItem).where(OutboxItem.kind == "fitconnect")
                                          .order_by(OutboxItem.id))
        # One outbox item keeps looking (not one row per look), and a look is no failed attempt.
        assert sending.done_at is not None and len(looks) == 1
        assert looks[0].payload["step"] == "status" and looks[0].done_at is None and looks[0].attempts == 0
        assert looks[0].not_before > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_office_on_our_api_queues_nothing_for_fit_connect(app: Flask) -> None:
    private, public = new_office_key()
    with session_scope(app) as session:
        register_office(session, "stadt", "buergeramt", public)
    citizen_sends_with_proof(new_citizen(app))
    with session_scope(app) as session:
        assert session.scalar(select(FitConnectSubmission)) is None
        assert session.scalar(select(OutboxItem).where(OutboxItem.kind == "fitconnect")) is None


# ---------------------------------------------------------------- the reply channel (e-mail, the citizen's opt-in)

REPLY = "Die Stelle darf mir auf diesen Antrag auch per E-Mail an"


def citizen_sends_choosing_reply(citizen: Citizen, by_email: bool) -> str:
    """The extended certificate with a proof; on the summary the citizen ticks (or not) that the
    office may answer by e-mail."""
    fill_meldebescheinigung(citizen.browser, art="erweitert")
    citizen.browser.get(f"{START}zahlung/")
    send(citizen.browser, iban=VALID_IBAN, vollmacht=upload(PDF, "nachweis.pdf"), kennzeichen="")
    assert citizen.browser.url.endswith(f"{START}zusammenfassung/"), citizen.browser.text
    text = citizen.browser.text
    assert f"{REPLY} lena.antrag@example.org antworten." in text
    assert "nicht Ende-zu-Ende-verschlüsselt" in text
    html = citizen.browser.text
    assert 'type="checkbox" id="feld-antwort-per-email" name="antwort_per_email" value="ja" ' \
           'aria-describedby="hinweis-antwort-per-email">' in html  # unticked, with its hint
    assert '<label for="feld-antwort-per-email">' in html and 'id="hinweis-antwort-per-email"' in html
    send(citizen.browser, erklaerung="ja", **({"antwort_per_email": "ja"} if by_email else {}))
    return reference_on(citizen.browser.text)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("offered", "ticked", "sent"), [
    ({"eMail": {"usePgp": False}}, True, {"eMail": {"address": "lena.antrag@example.org"}}),
    ({}, True, None),  # the destination offers no reply channel
    ({"deMail": {}, "fink": {}}, True, None),  # only channels the portal does not offer
    ({"eMail": {"usePgp": True}}, True, None),  # PGP required: we have no key of the citizen
    ({"eMail": {"usePgp": "true"}}, True, None),  # anything but false counts as PGP required
    ({"eMail": {"usePgp": False}}, False, None),  # offered, but the citizen did not allow it
])
def test_the_reply_channel_is_sent_only_when_the_citizen_allowed_it_and_the_destination_offers_email_without_pgp(
        fc: Setup, caplog: pytest.LogCaptureFixture, offered: dict[str, Any], ticked: bool,
        sent: dict[str, Any] | None) -> None:
    fc.double.reply_channels.update(offered)
    citizen = new_citizen(fc.app)
    with caplog.at_level(logging.DEBUG):
        reference = citizen_sends_choosing_reply(citizen, ticked)
        assert (row_of(fc.app).metadata_with_reply_jwe is not None) == ticked
        process_outbox(fc.app)

    assert fc.double.problems == []  # schema-valid, and no channel the destination does not offer
    [submission] = fc.double.submissions.values()
    assert submission.metadata is not None and submission.metadata.get("replyChannel") == sent
    row = row_of(fc.app)
    assert row.reply_channel == ("eMail" if sent else None) and row.metadata_with_reply_jwe is None
    # Nowhere in the portal's log (the test's own mail server, "mail.log", receives the inbox notice).
    portal_log = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]
    assert portal_log and not [line for line in portal_log if "lena.antrag@example.org" in line]
    citizen.browser.get(f"{START}eingang/{reference}/")
    assert ("Die Stelle kann Ihnen per E-Mail antworten." in citizen.browser.text) == bool(sent)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_routed_destination_offers_its_reply_channels_in_its_signed_parameters(
        app_settings: dict[str, Any]) -> None:
    private, public = new_office_key()
    double = FitConnectDouble(private, leika=LEIKA, region=AGS, schema_uris=[SCHEMA])
    double.reply_channels.update({"eMail": {}})
    with served(double.app) as url:
        app = start(app_settings, double, url, public, ROUTING)
        citizen_sends_choosing_reply(new_citizen(app), True)
        process_outbox(app)
        assert double.problems == []
        [submission] = double.submissions.values()
        assert submission.metadata is not None
        assert submission.metadata["replyChannel"] == {"eMail": {"address": "lena.antrag@example.org"}}
        app.extensions["db_engine"].dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_email_reply_is_offered_for_an_office_on_our_api(app: Flask) -> None:
    _private, public = new_office_key()
    with session_scope(app) as session:
        register_office(session, "stadt", "buergeramt", public)
    citizen = new_citizen(app)
    fill_meldebescheinigung(citizen.browser)
    assert citizen.browser.url.endswith(f"{START}zusammenfassung/")
    assert REPLY not in citizen.browser.text and "antwort_per_email" not in citizen.browser.text
    send(citizen.browser, erklaerung="ja", antwort_per_email="ja")  # a forged tick changes nothing
    assert "Ihr Antrag ist eingegangen" in citizen.browser.text
    assert "per E-Mail antworten" not in citizen.browser.text


def test_migration_0011_goes_down_and_up_again(tmp_path: Path) -> None:
    from alembic import command

    def columns(engine: Any) -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns("fit_connect_submissions")}

    def check(engine: Any) -> None:
        migrate(engine)
        assert {"metadata_with_reply_jwe", "reply_channel"} <= columns(engine)
        command.downgrade(alembic_config(engine), "0010")
        assert not {"metadata_with_reply_jwe", "reply_channel"} & columns(engine)
        migrate(engine)
        assert {"metadata_with_reply_jwe", "reply_channel"} <= columns(engine)
        engine.dispose()

    check(make_engine(f"sqlite:///{tmp_path / 'down-up.sqlite3'}"))
    with fresh_postgres_database("portal_migration_0011") as url:
        check(make_engine(url))


# ---------------------------------------------------------------- build.py office


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_build_py_office_switches_to_fit_connect_and_back(app: Flask, office_cli: OfficeCli,  # noqa: F811
                                                           tmp_path: Path) -> None:
    _private, public = key_files(tmp_path / "amt")
    assert office_cli("--public-key", public).code == 0
    destination = "2a6f7e1c-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
    kid = stored(app).public_jwk["kid"]

    done = office_cli("--fit-connect", destination)
    assert done.code == 0, done
    assert f"Delivery switched: FIT-Connect, destination {destination}." in done.out.splitlines()
    assert ("Warning: FITCONNECT_CLIENT_ID is not set; applications wait in the outbox until the sender client is "
            "configured.") in done.out.splitlines()
    assert f"kid {kid}" in done.out
    assert (stored(app).channel, stored(app).fit_connect_destination) == ("fit-connect", destination)
    assert f"Delivery: FIT-Connect, destination {destination}." in office_cli().out.splitlines()

    assert office_cli("--fit-connect", "routing").code == 0
    assert (stored(app).channel, stored(app).fit_connect_destination) == ("fit-connect", None)

    wrong = office_cli("--fit-connect", "zustellpunkt-7")
    assert wrong.code != 0 and "--fit-connect" in wrong.err and stored(app).channel == "fit-connect"

    back = office_cli("--own-api")
    assert back.code == 0 and "Delivery switched: office API." in back.out.splitlines()
    assert (stored(app).channel, stored(app).fit_connect_destination) == (None, None)


# ---------------------------------------------------------------- the migration


def test_migration_0008_goes_down_and_up_again(tmp_path: Path) -> None:
    from alembic import command

    def check(engine: Any) -> None:
        migrate(engine)
        assert {"channel", "fit_connect_destination"} <= {c["name"] for c in inspect(engine).get_columns("offices")}
        assert {"fit_connect_submissions", "fit_connect_attachments"} <= set(inspect(engine).get_table_names())
        command.downgrade(alembic_config(engine), "0007")
        assert "channel" not in {c["name"] for c in inspect(engine).get_columns("offices")}
        assert "fit_connect_submissions" not in inspect(engine).get_table_names()
        migrate(engine)
        assert "fit_connect_attachments" in inspect(engine).get_table_names()
        engine.dispose()

    check(make_engine(f"sqlite:///{tmp_path / 'down-up.sqlite3'}"))
    with fresh_postgres_database("portal_migration") as url:
        check(make_engine(url))


def test_in_production_build_py_office_refuses_fit_connect_without_the_sender_client(
        app: Flask, office_cli: OfficeCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    _private, public = key_files(tmp_path / "amt")
    assert office_cli("--public-key", public).code == 0
    production = _production_files(app, tmp_path)
    for variable, value in {"PORTAL_ENV": "production", "DEV_IDP": "0", "PORTAL_BASE_URL": production["base_url"],
                            "SAML_IDP_METADATA": production["saml_idp_metadata"],
                            "SAML_SP_KEY": production["saml_sp_key"], "SAML_SP_CERT": production["saml_sp_cert"],
                            "SECRET_KEY": production["secret_key"]}.items():
        monkeypatch.setenv(variable, str(value))

    refused = office_cli("--fit-connect", "routing")

    assert refused.code != 0 and "nothing was changed" in refused.err and "FITCONNECT_CLIENT_ID" in refused.err
    assert stored(app).channel is None


# ---------------------------------------------------------------- the routing's trust anchors (settings)


PRODUCTION_CLIENT = {"fitconnect_client_id": "portal-sender", "fitconnect_client_secret": "s" * 40,
                     "fitconnect_token_url": "https://auth.example/token",
                     "fitconnect_submission_url": "https://submission.example",
                     "fitconnect_routing_url": "https://routing.example"}


@pytest.mark.parametrize(("overrides", "message"), [
    ({}, r"FITCONNECT_SSP_JWKS_URL must name the production self-service portal's key set"),
    ({"fitconnect_ssp_jwks_url": "http://portal.example/.well-known/jwks.json"},
     "FITCONNECT_SSP_JWKS_URL must be an https:// address in production"),
])
def test_production_refuses_the_test_self_service_portal_as_trust_anchor_for_routes(
        overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_settings(env="production", secret_key="k" * 40, dev_idp=False, base_url="https://portal.example",
                      **PRODUCTION_CLIENT, **overrides)


def test_root_certificates_that_are_not_a_pem_file_are_refused_at_start(tmp_path: Path) -> None:
    broken = tmp_path / "roots.pem"
    broken.write_text("keine Zertifikate", encoding="utf-8")
    with pytest.raises(ConfigError, match="FITCONNECT_ROOT_CERTS must name a readable PEM file"):
        settings_from_env({"FITCONNECT_ROOT_CERTS": str(broken), "PORTAL_VAR_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match="FITCONNECT_ROOT_CERTS must name a readable PEM file"):
        settings_from_env({"FITCONNECT_ROOT_CERTS": str(tmp_path / "fehlt.pem"), "PORTAL_VAR_DIR": str(tmp_path)})
    root = tmp_path / "root.pem"
    root.write_bytes(new_ca("Test-Wurzel").pem())
    settings = settings_from_env({"FITCONNECT_ROOT_CERTS": str(root), "PORTAL_VAR_DIR": str(tmp_path),
                                  "FITCONNECT_SSP_JWKS_URL": "https://ssp.example/.well-known/jwks.json"})
    assert (settings.fitconnect_root_certs, settings.fitconnect_ssp_jwks_url) == (
        str(root), "https://ssp.example/.well-known/jwks.json")


# ---------------------------------------------------------------- a routed destination across attempts


def routed_sending_that_fails_once(fc: Setup) -> None:
    """The office switched to routing, and a citizen sends while the second upload will fail once."""
    with session_scope(fc.app) as session:
        office = office_of(session, "stadt", "buergeramt")
        assert office is not None
        switch_channel(office, ROUTING)
    fc.double.fail_once_after_first_attachment = True
    citizen_sends_with_proof(new_citizen(fc.app))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_routed_submission_resumes_after_a_failure_at_the_same_verified_destination(fc: Setup) -> None:
    app, double = fc.app, fc.double
    routed_sending_that_fails_once(fc)

    process_outbox(app)
    assert row_of(app).submission_id is not None and row_of(app).status == "queued"
    make_due(app)
    process_outbox(app)

    # The route was looked up and verified again before going on; still one submission.
    assert [r[1] for r in double.requests].count("/v1/routes") == 2
    assert double.created() == 1 and double.problems == [] and row_of(app).status == "submitted"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_route_that_names_another_destination_after_the_submission_was_created_is_refused(fc: Setup) -> None:
    app, double = fc.app, fc.double
    routed_sending_that_fails_once(fc)
    process_outbox(app)
    first = row_of(app).destination_id

    double.destination_id = "0c438057-ec3e-4ce0-b154-1683b5d3c2e8"  # the routing now answers with another one
    make_due(app)
    process_outbox(app)

    assert row_of(app).destination_id == first and row_of(app).status == "queued"
    with session_scope(app) as session:
        item = session.scalar(select(OutboxItem).where(OutboxItem.kind == "fitconnect"))
        assert item is not None and item.last_error == "Refused"
    assert double.created() == 1


@pytest.mark.parametrize(("area", "region", "covered"), [
    ("05", "05515000", True),  # the Land
    ("055", "05515000", True),  # the Regierungsbezirk
    ("05515", "05515000", True),  # the Kreis (here a kreisfreie Stadt)
    ("055150000000", "05515000", True),  # the Gemeinde, its ARS against its AGS
    ("055150000000", "055150000000", True),
    ("09162", "05515000", False),
    ("055150000001", "05515000", False),
    ("055150001", "05515000", False),  # a Gemeindeverband cannot be told from an AGS
    ("055150001", "055150001003", True),  # but from an ARS
])
def test_a_signed_area_covers_a_town_by_its_regional_keys(area: str, region: str, covered: bool) -> None:
    from dynamic.forms.fitconnect.routing import _region_covered

    assert _region_covered(area, region) is covered
