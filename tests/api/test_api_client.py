"""A client generated from the served OpenAPI document with openapi-python-client: it generates without a
warning about the document, with one type per enum of the models, and the generated package reads the
API's real answers."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.api import bearer, in_org, make_token
from tests.support.cycles import scaled_quoting_cycle

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "engpass_api_client"


@pytest.fixture
def generated(client, tmp_path):
    document = tmp_path / "openapi.json"
    document.write_text(client.get("/api/v1/openapi.json").text)
    config = tmp_path / "config.json"
    # Not formatted afterwards: the generator would run ruff from PATH, which the test does not need. The
    # generator reads only JSON and octet streams; the decision paper's PDF is an octet stream to it
    # (docs/api.md says so for client authors).
    config.write_text(
        json.dumps({"post_hooks": [], "content_type_overrides": {"application/pdf": "application/octet-stream"}})
    )
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(tmp_path / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result, tmp_path


def _enums(package: Path) -> dict[str, tuple[str, ...]]:
    """Every enum class the generator wrote: its name and its values, sorted."""
    found = {}
    for module in sorted((package / "models").glob("*.py")):
        for node in ast.parse(module.read_text()).body:
            if isinstance(node, ast.ClassDef) and any(getattr(base, "id", "").endswith("Enum") for base in node.bases):
                values = tuple(
                    sorted(
                        statement.value.value
                        for statement in node.body
                        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant)
                    )
                )
                found[node.name] = values
    return found


def test_the_generated_client_has_one_type_per_enum_and_no_warnings(generated, document_enums):
    result, root = generated
    assert result.returncode == 0, result.stdout + result.stderr
    output = (result.stdout + result.stderr).lower()
    assert "warning" not in output and "error" not in output, result.stdout + result.stderr
    enums = _enums(root / PACKAGE)
    # No two types for the same values (a nullable enum used to become three per field).
    assert len(set(enums.values())) == len(enums), enums
    for name, values in document_enums.items():
        assert enums.get(name) == values, (name, enums)


@pytest.fixture
def document_enums(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    return {name: tuple(sorted(schema["enum"])) for name, schema in schemas.items() if "enum" in schema}


def test_the_generated_client_reads_the_apis_answers(client, session, make_user, make_org, generated):
    result, root = generated
    assert result.returncode == 0, result.stdout + result.stderr
    owner = make_user()
    org = make_org(owner=owner)
    cycle = in_org(session, org, lambda s: scaled_quoting_cycle(s, owner))
    token = make_token(session, org, owner)
    answer = client.get(f"/api/v1/cycles/{cycle.id}", headers=bearer(token)).json
    # In a fresh interpreter: the generated package imports and parses the answer into its models.
    script = (
        f"import json, sys; from {PACKAGE}.models import Cycle, Stage, KpiDirection; "
        "cycle = Cycle.from_dict(json.loads(sys.stdin.read())); "
        "assert cycle.stage is Stage.DECIDED and cycle.kpi_direction is KpiDirection.LOWER, cycle; "
        "assert cycle.to_dict()['stage'] == 'decided'"
    )
    parsed = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(answer),
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert parsed.returncode == 0, parsed.stderr
