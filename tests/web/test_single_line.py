"""Single-line fields refuse control characters: every form's text fields (found by walking the form
classes, not listed), the API, the CLI; old values with line breaks still go out by mail."""

import pkgutil
from importlib import import_module

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import PasswordField, StringField, TextAreaField

import engpass
from engpass import single_line
from engpass.mail import Mail, build_message

UNWANTED = ["A\nB", "A\rB", "A\tB", "A\x0bB", "A\x85B", "A\u2028B", "A\u2029B", "A\u202eB", "A\u2066B", "A\ufeffB"]
WANTED = ["Müller & Söhne GmbH", "O'Brien-Smith", "Zoë 👨\u200d👩\u200d👧", "می\u200cخواهم", "Fahr\u00adzeug"]


def _all_form_classes() -> list[type[FlaskForm]]:
    for module in pkgutil.walk_packages(engpass.__path__, "engpass."):
        import_module(module.name)
    found, todo = [], list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(set(found), key=lambda c: f"{c.__module__}.{c.__qualname__}")


def _single_line_fields(form: FlaskForm) -> list[str]:
    return [
        name
        for name, field in form._fields.items()
        if isinstance(field, StringField) and not isinstance(field, PasswordField | TextAreaField)
    ]


def test_every_single_line_field_of_every_form_refuses_control_characters(app):
    checked = []
    with app.test_request_context():
        for cls in _all_form_classes():
            for name in _single_line_fields(cls(formdata=None, meta={"csrf": False})):
                for value in UNWANTED:
                    form = cls(formdata=MultiDict({name: value}), meta={"csrf": False})
                    field = form[name]
                    field.validate(form)
                    assert str(single_line.MESSAGE) in field.errors, f"{cls.__qualname__}.{name} took {value!r}"
                for value in WANTED:
                    form = cls(formdata=MultiDict({name: value}), meta={"csrf": False})
                    form[name].validate(form)
                    assert str(single_line.MESSAGE) not in form[name].errors, (cls.__qualname__, name, value)
                checked.append(f"{cls.__qualname__}.{name}")
    # The walk found the forms: names, titles, KPI and units, the organization, invitations, tokens.
    for expected in ("SignupForm.name", "SignupForm.company", "OrganizationSettingsForm.name", "BaselineForm.kpi_unit"):
        assert expected in checked
    assert len(checked) >= 20


@pytest.mark.parametrize("value", UNWANTED)
def test_the_predicate_refuses_controls_separators_and_invisible_formatting(value):
    assert single_line.has_unwanted(value)
    assert not single_line.has_unwanted(single_line.fold(value))


@pytest.mark.parametrize("value", WANTED)
def test_real_names_pass_unchanged(value):
    assert not single_line.has_unwanted(value)
    assert single_line.fold(value) == value


def test_a_stored_name_with_a_line_break_still_makes_a_valid_mail_on_one_subject_line():
    mail = Mail(to="a@example.com", subject="Anna\r\nBcc: opfer@example.com lädt ein", text="x", html="")
    parsed = build_message(mail, "Engpass <noreply@example.com>").parsed()
    assert parsed["Subject"] == "Anna Bcc: opfer@example.com lädt ein"
    assert parsed["Bcc"] is None


def _request_text_fields():
    """Every string field of the API's request bodies, with its multi-line flag (query arguments such as the
    opaque paging cursor are no text anyone reads). The schemas are found by walking the ``*_schemas`` modules,
    so a new resource's module is checked too."""
    from marshmallow import Schema, fields

    from engpass import api
    from engpass.api import schema_fields

    for module in pkgutil.iter_modules(api.__path__):
        if not module.name.endswith("_schemas"):
            continue
        for name, cls in vars(import_module(f"engpass.api.{module.name}")).items():
            if not (isinstance(cls, type) and issubclass(cls, Schema) and cls is not Schema):
                continue
            if name.endswith("ArgsSchema"):
                continue
            for field_name, field in cls().fields.items():
                if isinstance(field, fields.String) and schema_fields._no_control_characters in field.validators:
                    yield f"{name}.{field_name}", field, single_line.validate not in field.validators


def test_every_single_line_string_of_the_api_refuses_control_characters(app):
    from marshmallow import ValidationError

    found = {}
    with app.test_request_context():
        for name, field, multiline in _request_text_fields():
            found[name] = multiline
            if multiline:
                continue
            for value in UNWANTED:
                with pytest.raises(ValidationError):
                    field.deserialize(value)
            for value in WANTED:
                field.deserialize(value)
    # Only the long texts may hold line breaks.
    assert {name.split(".")[1] for name, multiline in found.items() if multiline} == {
        "why",
        "solution_what",
        "expected_effect",
        "decision_reason",
        "lessons_worked",
        "lessons_failed",
        "lessons_differently",
        "note",
        "description",
        "reason",
    }
    assert {"CycleCreateSchema.title", "CyclePatchSchema.kpi_unit"} <= {n for n, m in found.items() if not m}


def test_the_api_answers_a_title_with_a_line_break_with_422(client, session, make_user, make_org):
    from tests.support.api import bearer, make_token

    user = make_user()
    org = make_org(owner=user)
    token = make_token(session, org, user)
    response = client.post(
        "/api/v1/cycles", json={"title": "Angebote\nBcc: x", "category": "quoting"}, headers=bearer(token)
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "title"


@pytest.mark.parametrize(
    "args",
    [
        ["orgs", "create", "--name", "Firma\nBcc: x", "--owner-email", "a@example.com", "--password", "x" * 12],
        [
            "orgs",
            "create",
            "--name",
            "Firma",
            "--owner-email",
            "a@example.com",
            "--password",
            "x" * 12,
            "--owner-name",
            "A\u2028B",
        ],
        ["users", "create", "--email", "b@example.com", "--password", "x" * 12, "--name", "Bea\rBcc: x"],
        ["tokens", "create", "--org", "firma", "--email", "a@example.com", "--name", "CI\x85"],
    ],
)
def test_the_cli_refuses_names_with_control_characters(app, session, monkeypatch, args):
    from engpass.accounts.models import User
    from engpass.cli import cli

    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    result = app.test_cli_runner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "one line without control characters" in result.output
    assert session.query(User).count() == 0
