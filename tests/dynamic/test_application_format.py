"""Issue 24, a documented, versioned format: every application names its form's version and
the JSON Schema of its machine-readable `data` (served without login at its `$id`), the
service's LeiKa key and the responsible town's AGS; its `data` validates against that schema
for every real form; and `build.py check` refuses an incompatible change to a published
form unless its version is raised."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from flask import Flask
from sqlalchemy import select

from dynamic import create_app
from dynamic.forms.delivery import register_office
from dynamic.platform.crypto import decrypt, new_office_key
from dynamic.platform.db import session_scope
from dynamic.platform.models import Application
from generator.errors import ContentError
from generator.pipeline import check
from generator.schema import write_schemas
from katalog import formschema
from tests.dynamic.browserlike import Browser
from tests.dynamic.conftest import make_settings
from tests.dynamic.forms_fixtures import fill_meldebescheinigung, office, reference_on, send
from tests.dynamic.test_profile import log_in, make_account
from tests.dynamic.test_real_forms import switched_on, walk

FORMAT = jsonschema.Draft202012Validator.FORMAT_CHECKER
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the loader of generator/load.py


def payload_of(app: Flask, reference: str, private_jwk: dict[str, Any]) -> dict[str, Any]:
    with session_scope(app) as session:
        jwe = session.scalar(select(Application.jwe).where(Application.reference == reference))
    assert jwe is not None
    return decrypt(jwe, private_jwk)


def served_schema(app: Flask, form_id: str, version: int) -> dict[str, Any]:
    answer = app.test_client().get(f"/api/v1/forms/{form_id}/{version}/schema.json")  # no token
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "application/schema+json"
    schema: dict[str, Any] = json.loads(answer.get_data(as_text=True))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def assert_valid(payload: dict[str, Any], schema: dict[str, Any]) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in jsonschema.Draft202012Validator(schema, format_checker=FORMAT).iter_errors(payload["data"])]
    assert not errors, errors


# ---------------------------------------------------------------- the payload, fixture form


def test_payload_names_version_schema_leika_ags_and_compact_data(app: Flask) -> None:
    amt = office(app)
    browser = Browser(app.test_client())
    log_in(browser.client, app, make_account(app, email="lena.format@example.org"))
    fill_meldebescheinigung(browser, art="erweitert")
    send(browser, erklaerung="ja")
    payload = payload_of(app, reference_on(browser.text), amt.private_jwk)

    base = app.config["PORTAL"].base_url
    url = f"{base}/api/v1/forms/meldebescheinigung/1/schema.json"
    assert payload["form"] == {"id": "meldebescheinigung", "title": "Meldebescheinigung beantragen",
                               "service": "meldebescheinigung", "version": 1, "schema": url}
    assert payload["service"]["leika"] == "99115003012000" and payload["service"]["id"] == "meldebescheinigung"
    assert payload["municipality"] == "stadt" and payload["ags"] == "05515000" and payload["town"] is None
    assert payload["office"]["unit"] == "buergeramt"
    # The existing keys are all still there.
    assert {"type", "version", "reference", "submitted_at", "identification", "answers", "files"} <= set(payload)
    # One timestamp format: the payload's time is the API's, RFC 3339 in UTC with "Z".
    listed = app.test_client().get(f"/api/v1/applications/{payload['reference']}",
                                   headers={"Authorization": f"Bearer {amt.token}"}).get_json()
    assert payload["submitted_at"] == listed["submitted_at"] and payload["submitted_at"].endswith("Z")
    data = payload["data"]
    assert data["iban"] == "DE89370400440532013000"
    assert data["geburtsdatum"] == "1990-04-03"
    assert data["anzahl"] == 2 and data["weitere"] is False and data["art"] == "erweitert"
    assert data["anschrift"] == {"strasse": "Musterweg 5", "plz": "48143", "ort": "Beispielstadt"}
    assert "telefon" not in data and "personen" not in data  # not answered, not shown
    schema = served_schema(app, "meldebescheinigung", 1)
    assert schema["$id"] == url
    assert_valid(payload, schema)
    # A value the form would never send is refused by the schema.
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "art": "sonstige"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "iban": "DE89 3704 0044 0532 0130 00"}, schema)

    # The envelope as the OpenAPI document describes it.
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    jsonschema.validate(payload, document["components"]["schemas"]["ApplicationPayload"])
    # Public: the only operation without the office's token.
    item = document["paths"]["/api/v1/forms/{form_id}/{version}/schema.json"]
    assert item["get"]["security"] == [] and set(item["get"]["responses"]) == {"200", "404"}
    refused = app.test_client().put("/api/v1/forms/meldebescheinigung/1/schema.json")
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET"


def test_schema_of_an_unknown_form_or_version_is_a_json_404(app: Flask) -> None:
    client = app.test_client()
    for path in ("/api/v1/forms/gibt-es-nicht/1/schema.json", "/api/v1/forms/meldebescheinigung/2/schema.json",
                 "/api/v1/forms/meldebescheinigung/0/schema.json", "/api/v1/forms/meldebescheinigung/01/schema.json",
                 "/api/v1/forms/Meldebescheinigung/1/schema.json"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.get_json()["error"] == "not_found" and "Formular" in answer.get_json()["message"]


def test_an_earlier_version_is_served_from_its_published_snapshot(app: Flask, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    form = {"id": "meldebescheinigung", "title": "Alt", "service": "meldebescheinigung", "version": 1,
            "steps": [{"id": "a", "title": "A", "fields": [{"id": "name", "type": "text", "label": "Name"}]}]}
    (tmp_path / "meldebescheinigung.v1.json").write_text(formschema.snapshot(form), encoding="utf-8")
    # The catalogue now says version 2 for a moment: version 1 comes from the snapshot.
    monkeypatch.setattr(formschema, "REPOSITORY_SNAPSHOTS", tmp_path)
    monkeypatch.setattr(formschema, "version_of", lambda form: 2)
    schema = served_schema(app, "meldebescheinigung", 1)
    assert schema["title"] == "Alt (Version 1)" and list(schema["properties"]) == ["name"]
    assert schema["$id"] == app.config["PORTAL"].base_url + "/api/v1/forms/meldebescheinigung/1/schema.json"


def test_the_committed_snapshots_are_what_build_py_schema_writes() -> None:
    valid = check(Path(__file__).resolve().parents[2] / "content")
    for form_id, form in valid.forms.items():
        path = formschema.REPOSITORY_SNAPSHOTS / formschema.snapshot_name(form_id, form.version)
        data = {**form.model_dump(mode="json", exclude_none=True), "id": form_id}
        assert path.is_file() and path.read_text(encoding="utf-8") == formschema.snapshot(data), \
            f"run: python build.py schema ({path.name})"


# ---------------------------------------------------------------- every real form


@pytest.fixture
def real_app(app_settings: dict[str, Any], real_output: Path) -> Any:
    app = create_app(make_settings(**{**app_settings, "output_dir": real_output}))
    yield app
    app.extensions["db_engine"].dispose()


@pytest.mark.slow
def test_every_real_form_sends_data_valid_under_its_served_schema(real_app: Flask, real_output: Path) -> None:
    forms = switched_on(real_output)
    assert len({form_id for _slug, form_id, _form in forms}) >= 8
    private, public = new_office_key()
    registered: set[tuple[str, str]] = set()
    kinds: set[str] = set()
    for slug, form_id, form in forms:
        katalog = json.loads((real_output / slug / "katalog.json").read_text(encoding="utf-8"))
        recipient = form["recipients"][0]  # walk() chooses the first town in a district
        if (slug, recipient["unit"]) not in registered:
            with session_scope(real_app) as session:
                register_office(session, slug, recipient["unit"], public)
            registered.add((slug, recipient["unit"]))
        browser = Browser(real_app.test_client())
        account = make_account(real_app, email=f"format.{slug}.{form_id}@example.org")
        level = form["trust_level"]
        log_in(browser.client, real_app, account, level=level, means="eid" if level == "hoch" else "konto")
        payload = payload_of(real_app, walk(real_app, browser, slug, form_id, form), private)

        schema = served_schema(real_app, form_id, form.get("version", 1))
        assert payload["form"]["version"] == form.get("version", 1) == 1
        assert payload["form"]["schema"] == schema["$id"]
        assert_valid(payload, schema)
        assert set(payload["data"]) == {answer["id"] for answer in payload["answers"]}
        kinds.update(answer["type"] for answer in payload["answers"])

        leika = katalog["services"][form["service"]]["leika"]
        assert payload["service"]["leika"] == leika, f"{slug}/{form_id}"
        municipality = katalog["municipality"]
        if recipient["town"] is None:
            assert payload["ags"] == municipality["ags"] and payload["town"] is None
        else:
            town = next(t for t in municipality["towns"] if t["id"] == recipient["town"])
            assert payload["ags"] == town["ags"] != municipality["ags"], f"{slug}/{form_id}"
            assert payload["town"]["id"] == town["id"]
        for answer in payload["answers"]:
            value = payload["data"][answer["id"]]
            if answer["type"] == "file":
                assert len(value["sha512"]) == 128 and value["size"] == answer["value"]["size"]
            if answer["type"] == "iban":
                assert " " not in value and value == value.upper()
    # The real forms together send every kind of value the schema describes.
    assert kinds >= {"text", "date", "choice", "yesno", "address", "iban", "file", "email"}, kinds
    assert {slug for slug, _id, _form in forms} >= {"kreis-coesfeld", "muenster"}


# ---------------------------------------------------------------- build.py check: published versions


def _edit_form(content: Path, change: Any) -> None:
    path = content / "forms" / "meldebescheinigung.yaml"
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER)
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _errors(content: Path) -> list[str]:
    try:
        check(content)
    except ContentError as error:
        return [str(problem) for problem in error.problems]
    return []


def _field(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for step in data["steps"] for f in step["fields"] if f["id"] == name)


@pytest.fixture
def published(content: Path) -> Path:
    """The fixture content with its forms published (schema/forms/ beside content/)."""
    written = write_schemas(content.parent / "schema", content)
    assert content.parent / "schema" / "forms" / "meldebescheinigung.v1.json" in written
    assert not _errors(content)
    return content


INCOMPATIBLE = [
    ("removed", lambda d: d["steps"][0]["fields"].pop(), 'version: .*field "telefon" was removed'),
    ("type", lambda d: _field(d, "anzahl").update(type="text", min=None, max=None),
     r'steps\[1\]\.fields\[2\]: .*field "anzahl": type changed from integer to string'),
    ("new required", lambda d: d["steps"][0]["fields"].append({"id": "beruf", "type": "text", "label": "Beruf"}),
     'field "beruf": new field required always'),
    ("now required", lambda d: _field(d, "telefon").update(required=True),
     'field "telefon": now required always, was optional'),
    ("choice", lambda d: _field(d, "art")["options"][0].update(value="standard"),
     'field "art": choice value "einfach" removed'),
    ("max_length", lambda d: _field(d, "zweck").update(max_length=100),
     'field "zweck": narrower limit: maxLength from 300 to 100'),
    ("minimum", lambda d: _field(d, "anzahl").update(min=2), 'field "anzahl": narrower limit: minimum from 1 to 2'),
    ("pattern", lambda d: _field(d, "nachname").update(pattern="[A-Z].*", pattern_message="Groß.", example="Abc"),
     'field "nachname": narrower limit: pattern added'),
    ("file size", lambda d: _field(d, "vollmacht").update(max_size_mb=0.5),
     'field "vollmacht": narrower limit: largest file'),
    ("file kind", lambda d: _field(d, "vollmacht").update(accept=["pdf"]),
     'field "vollmacht": choice value "image/jpeg", "image/png" removed'),
]


@pytest.mark.parametrize(("change", "expected"), [(c, e) for _n, c, e in INCOMPATIBLE],
                         ids=[n for n, _c, _e in INCOMPATIBLE])
def test_check_refuses_an_incompatible_change_unless_the_version_is_raised(published: Path, change: Any,
                                                                           expected: str) -> None:
    import re

    _edit_form(published, change)
    found = _errors(published)
    assert len(found) >= 1 and all("incompatible with the published version 1" in e for e in found), found
    assert any(re.search(expected, e) for e in found), found
    assert all(e.startswith("content/forms/meldebescheinigung.yaml:") for e in found), found
    assert all(e.endswith("raise version to 2 or undo the change") for e in found), found
    assert "(schema/forms/meldebescheinigung.v1.json)" in found[0]
    # A field's problem is at its line: path:line: steps[i].fields[j]: …
    line = int(found[0].split(":")[1])
    assert line >= 1
    _edit_form(published, lambda d: d.update(version=2))
    assert not _errors(published)


def test_compatible_changes_keep_the_version(published: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        _field(d, "zweck").update(max_length=500, label="Wofür?")
        _field(d, "anzahl").update(max=10)
        _field(d, "art")["options"].append({"value": "beglaubigt", "label": "Beglaubigt"})
        d["steps"][0]["fields"].append({"id": "hinweis", "type": "text", "label": "Hinweis", "required": False})
        d["title"] = "Meldebescheinigung online beantragen"

    _edit_form(published, change)
    assert not _errors(published)


def test_field_errors_point_at_the_field_line(published: Path) -> None:
    _edit_form(published, lambda d: _field(d, "zweck").update(max_length=100))
    text = (published / "forms" / "meldebescheinigung.yaml").read_text(encoding="utf-8").splitlines()
    (found,) = _errors(published)
    path, line, where, _message = found.split(":", 3)
    assert path == "content/forms/meldebescheinigung.yaml" and where.strip() == "steps[1].fields[1]"
    assert "id: zweck" in text[int(line) - 1]


def test_versions_only_go_up_and_build_py_schema_keeps_every_published_version(published: Path) -> None:
    folder = published.parent / "schema" / "forms"
    _edit_form(published, lambda d: (d.update(version=2), d["steps"][0]["fields"].pop()))
    write_schemas(published.parent / "schema", published)
    assert (folder / "meldebescheinigung.v1.json").is_file() and (folder / "meldebescheinigung.v2.json").is_file()
    v1 = json.loads((folder / "meldebescheinigung.v1.json").read_text(encoding="utf-8"))
    assert "telefon" in v1["properties"]
    _edit_form(published, lambda d: d.update(version=1))
    (found,) = _errors(published)
    assert found.startswith("content/forms/meldebescheinigung.yaml:") and ": version: version 1 is lower than the published " \
        "version 2 (schema/forms/meldebescheinigung.v2.json); versions only go up" in found


def test_build_py_schema_refuses_to_overwrite_a_published_version_incompatibly(published: Path) -> None:
    snapshot = published.parent / "schema" / "forms" / "meldebescheinigung.v1.json"
    before = snapshot.read_text(encoding="utf-8")
    _edit_form(published, lambda d: d["steps"][0]["fields"].pop())
    with pytest.raises(ContentError):
        write_schemas(published.parent / "schema", published)
    assert snapshot.read_text(encoding="utf-8") == before


def test_content_without_published_forms_checks_as_before(content: Path) -> None:
    shutil.rmtree(content.parent / "schema", ignore_errors=True)
    _edit_form(content, lambda d: d["steps"][0]["fields"].pop())
    assert not _errors(content)
