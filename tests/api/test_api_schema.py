"""The OpenAPI document: generated, valid OpenAPI 3.1, honoured by every response (Schemathesis), and a
reference page that loads nothing from outside the app."""

import re
import sys
import zlib
from datetime import date, timedelta
from decimal import Decimal

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from engpass.api.cycle_schemas import CycleSchema
from engpass.api.paging import encode
from engpass.candidates import service as candidates
from engpass.cycles import indirect_service, service
from engpass.cycles.models import Category, Cycle, Decision, KpiDirection, SolutionType, Stage
from engpass.cycles.rules import NOT_BLANK, problems_to_enter
from engpass.rollouts import service as rollouts
from engpass.rollouts.models import Reach
from engpass.routing import ID_MAX
from engpass.trends.service import recompute
from tests.support.api import bearer, in_org, make_token
from tests.support.cycles import scaled_quoting_cycle
from tests.support.hostile import nested_json


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.json


def test_the_document_is_openapi_3_1_and_secured_by_bearer_tokens(document):
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"] == {"bearerAuth": {"type": "http", "scheme": "bearer"}}
    assert document["security"] == [{"bearerAuth": []}]
    operations = [
        (path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method != "parameters"
    ]
    assert {(path, method) for path, method, _op in operations} == {
        ("/api/v1/cycles", "get"),
        ("/api/v1/cycles", "post"),
        ("/api/v1/cycles/{cycle_id}", "get"),
        ("/api/v1/cycles/{cycle_id}", "patch"),
        ("/api/v1/cycles/{cycle_id}", "delete"),
        ("/api/v1/cycles/{cycle_id}/stage", "post"),
        ("/api/v1/cycles/{cycle_id}/measurements", "get"),
        ("/api/v1/cycles/{cycle_id}/measurements", "post"),
        ("/api/v1/cycles/{cycle_id}/measurements/import", "post"),
        ("/api/v1/cycles/{cycle_id}/business-case", "get"),
        ("/api/v1/cycles/{cycle_id}/decision-paper", "get"),
        ("/api/v1/cycles/{cycle_id}/indirect-costs", "post"),
        ("/api/v1/cycles/{cycle_id}/indirect-costs/{item_id}", "patch"),
        ("/api/v1/cycles/{cycle_id}/indirect-costs/{item_id}", "delete"),
        ("/api/v1/dashboard", "get"),
        ("/api/v1/maturity/history", "get"),
        ("/api/v1/radar", "get"),
        ("/api/v1/organization", "get"),
        ("/api/v1/organization", "patch"),
        ("/api/v1/candidates", "get"),
        ("/api/v1/candidates", "post"),
        ("/api/v1/candidates/{candidate_id}", "get"),
        ("/api/v1/candidates/{candidate_id}", "patch"),
        ("/api/v1/candidates/{candidate_id}/merge", "post"),
        ("/api/v1/candidates/{candidate_id}/pick", "post"),
        ("/api/v1/candidates/{candidate_id}/dismiss", "post"),
        ("/api/v1/candidates/{candidate_id}/reopen", "post"),
        ("/api/v1/cycles/{cycle_id}/rollout", "get"),
        ("/api/v1/cycles/{cycle_id}/rollout", "put"),
        ("/api/v1/cycles/{cycle_id}/rollout/measurements", "get"),
        ("/api/v1/cycles/{cycle_id}/rollout/measurements", "post"),
        ("/api/v1/cycles/{cycle_id}/rollout/measurements/{measurement_id}", "patch"),
        ("/api/v1/cycles/{cycle_id}/rollout/measurements/{measurement_id}", "delete"),
        ("/api/v1/webhooks", "get"),
        ("/api/v1/webhooks", "post"),
        ("/api/v1/webhooks/{webhook_id}", "get"),
        ("/api/v1/webhooks/{webhook_id}", "patch"),
        ("/api/v1/webhooks/{webhook_id}", "delete"),
        ("/api/v1/webhooks/{webhook_id}/rotate-secret", "post"),
        ("/api/v1/webhooks/{webhook_id}/deliveries", "get"),
        ("/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", "post"),
    }
    ids = [op["operationId"] for _path, _method, op in operations]
    assert len(set(ids)) == len(ids) and all(op["summary"] for _p, _m, op in operations)
    for path, method, op in operations:
        assert {"401", "429"} <= set(op["responses"]), (path, method)
        assert ("404" in op["responses"]) == any(
            name in path for name in ("{cycle_id}", "{candidate_id}", "{webhook_id}")
        )
        assert ("422" in op["responses"]) == (method in ("post", "put", "patch") or "parameters" in op)
    for response in document["components"]["responses"].values():
        assert list(response["content"]) == ["application/problem+json"]


def test_the_document_is_valid_against_the_openapi_3_1_meta_schema(document):
    # The official 3.1 schema as Schemathesis ships it, and every schema object as JSON Schema 2020-12.
    errors = [str(error) for error in OPENAPI_31_VALIDATOR.iter_errors(document)]
    assert errors == []
    assert all(jsonschema_rs.meta.is_valid(schema) for schema in document["components"]["schemas"].values())


def test_the_document_takes_the_models_codes_and_decimals_as_strings(document):
    schemas = document["components"]["schemas"]
    assert schemas["CycleCreate"]["required"] == ["category", "title"]
    assert schemas["CycleCreate"]["properties"]["category"] == {"$ref": "#/components/schemas/Category"}
    assert schemas["Category"] == {"type": "string", "enum": [c.value for c in Category]}
    # A nullable enum refers to the one schema of its values, null beside it.
    assert schemas["Cycle"]["properties"]["decision"] == {
        "anyOf": [{"$ref": "#/components/schemas/Decision"}, {"type": "null"}]
    }
    assert schemas["Cycle"]["properties"]["hours_per_week"]["type"] == ["string", "null"]
    assert schemas["CyclePatch"]["properties"]["kpi_target"]["type"] == ["number", "null"]
    assert schemas["Cycle"]["properties"]["created_at"]["format"] == "date-time"
    assert schemas["Problem"]["additionalProperties"] is False


def test_the_reference_page_loads_nothing_from_outside(client, document):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.text
    for operation_id in (
        op["operationId"] for item in document["paths"].values() for m, op in item.items() if m != "parameters"
    ):
        assert f'id="{operation_id}"' in page
    assert 'id="problem-rule-violation"' in page and 'id="schema-Cycle"' in page
    assets = re.findall(r'<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)="([^"]+)"', page)
    assert assets and all(url.startswith("/") and not url.startswith("//") for url in assets), assets
    assert "<script" not in page and "http://" not in page.split("<main")[0] and "https://" not in page
    assert "API-Dokumentation" in page


def test_problem_types_point_at_the_reference_page(client, session, make_user, make_org):
    user = make_user()
    org = make_org(owner=user)
    token = make_token(session, org, user)
    kind = client.get("/api/v1/cycles/1", headers=bearer(token)).json["type"]
    assert kind == "/api/v1/docs#problem-not-found"
    assert 'id="problem-not-found"' in client.get("/api/v1/docs").text


# --- Schemathesis: generated requests against the app in-process ---------------------------------
#
# Schemathesis' own pytest integration (``schemathesis.pytest.from_fixture``) does not run under this
# pytest; its documented Python API does: each operation's Hypothesis strategy, driven by ``@given``.

OPERATIONS = [
    ("/api/v1/cycles", "GET"),
    ("/api/v1/cycles", "POST"),
    ("/api/v1/cycles/{cycle_id}", "GET"),
    ("/api/v1/cycles/{cycle_id}", "PATCH"),
    ("/api/v1/cycles/{cycle_id}", "DELETE"),
    ("/api/v1/cycles/{cycle_id}/stage", "POST"),
    ("/api/v1/cycles/{cycle_id}/measurements", "GET"),
    ("/api/v1/cycles/{cycle_id}/measurements", "POST"),
    ("/api/v1/cycles/{cycle_id}/measurements/import", "POST"),
    ("/api/v1/cycles/{cycle_id}/business-case", "GET"),
    ("/api/v1/cycles/{cycle_id}/decision-paper", "GET"),
    ("/api/v1/cycles/{cycle_id}/indirect-costs", "POST"),
    ("/api/v1/cycles/{cycle_id}/indirect-costs/{item_id}", "PATCH"),
    ("/api/v1/cycles/{cycle_id}/indirect-costs/{item_id}", "DELETE"),
    ("/api/v1/dashboard", "GET"),
    ("/api/v1/maturity/history", "GET"),
    ("/api/v1/radar", "GET"),
    ("/api/v1/organization", "GET"),
    ("/api/v1/organization", "PATCH"),
    ("/api/v1/candidates", "GET"),
    ("/api/v1/candidates", "POST"),
    ("/api/v1/candidates/{candidate_id}", "GET"),
    ("/api/v1/candidates/{candidate_id}", "PATCH"),
    ("/api/v1/candidates/{candidate_id}/merge", "POST"),
    ("/api/v1/candidates/{candidate_id}/pick", "POST"),
    ("/api/v1/candidates/{candidate_id}/dismiss", "POST"),
    ("/api/v1/candidates/{candidate_id}/reopen", "POST"),
    ("/api/v1/webhooks", "GET"),
    ("/api/v1/webhooks", "POST"),
    ("/api/v1/webhooks/{webhook_id}", "GET"),
    ("/api/v1/webhooks/{webhook_id}", "PATCH"),
    ("/api/v1/webhooks/{webhook_id}", "DELETE"),
    ("/api/v1/webhooks/{webhook_id}/rotate-secret", "POST"),
    ("/api/v1/webhooks/{webhook_id}/deliveries", "GET"),
    ("/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", "POST"),
    ("/api/v1/cycles/{cycle_id}/rollout", "GET"),
    ("/api/v1/cycles/{cycle_id}/rollout", "PUT"),
    ("/api/v1/cycles/{cycle_id}/rollout/measurements", "GET"),
    ("/api/v1/cycles/{cycle_id}/rollout/measurements", "POST"),
    ("/api/v1/cycles/{cycle_id}/rollout/measurements/{measurement_id}", "PATCH"),
    ("/api/v1/cycles/{cycle_id}/rollout/measurements/{measurement_id}", "DELETE"),
]
CHECKS = [
    not_a_server_error,
    # The document is no looser than the server: what it allows is accepted (not a 400 or 422).
    positive_data_acceptance,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 20
FILE_OPERATIONS = {"/api/v1/cycles/{cycle_id}/measurements/import"}
# A webhook's URL is checked against what its host resolves to now: no schema can say which names do.
RESOLVED_OPERATIONS = {"/api/v1/webhooks", "/api/v1/webhooks/{webhook_id}"}


def _checks(path: str) -> list:
    """A file's content is not described by its schema (any bytes are "binary"): an unreadable file is a
    422, so a generated file is not held to ``positive_data_acceptance``; nor is a generated webhook URL."""
    unchecked = FILE_OPERATIONS | RESOLVED_OPERATIONS
    return [check for check in CHECKS if check is not positive_data_acceptance or path not in unchecked]


JSON = "application/json"


# The cursors' formats (api/page_schemas.py ``cursor``): what the lists hand out, for any position.
schemathesis.openapi.format("cycle-cursor", st.integers(min_value=0, max_value=ID_MAX).map(lambda id_: encode([id_])))
schemathesis.openapi.format(
    "measurement-cursor",
    st.tuples(st.dates(), st.integers(min_value=0, max_value=ID_MAX)).map(
        lambda key: encode([key[0].isoformat(), key[1]])
    ),
)

# The backlog's rank key: unknown or not, the cost per year as text, the creation moment, the id.
schemathesis.openapi.format(
    "candidate-cursor",
    st.tuples(
        st.integers(min_value=0, max_value=1),
        st.decimals(min_value=0, max_value=10**14, places=2, allow_nan=False, allow_infinity=False),
        st.floats(min_value=0, max_value=4e9, allow_nan=False),
        st.integers(min_value=0, max_value=ID_MAX),
    ).map(lambda key: encode([key[0], str(key[1]), key[2], key[3]])),
)


def test_the_list_of_operations_is_the_documents(document):
    documented = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item if method != "parameters"
    }
    assert documented == set(OPERATIONS)


@pytest.fixture
def api_world(session, make_user, make_org):
    """An owner's token, cycles in two stages and three candidates (two open, one dismissed), so that generated
    ids also hit real objects — their ids in one list, the cycles' first — and the weekly figures computed."""
    owner, member = make_user(), make_user()
    org = make_org("Schema GmbH", owner=owner, members={member: "member"})

    def build(s):
        decided = scaled_quoting_cycle(s, owner)
        fresh = service.create_cycle(
            s,
            title="Offen",
            category=Category.leads,
            why="",
            owner_id=owner.id,
            actor_id=owner.id,
            confirm_second_open=True,
        )
        # An indirect cost item on each, so that the items' operations also reach real ones.
        items = {}
        for cycle in (decided, fresh):
            item = {"label": "Porto", "kind": "other", "quantity": None, "unit_value": Decimal(10)}
            item |= {"people_affected": None, "period": "week", "source": "guess", "source_note": ""}
            items[cycle.id] = indirect_service.add_item(s, cycle, item, owner.id).id
        # A rollout with a measurement on the decided cycle, so that its operations reach real ones.
        start = date.today() - timedelta(days=40)
        rollout = rollouts.save_rollout(
            s, decided, {"reach": Reach.people, "target_count": 40, "started_on": start}, None
        )
        measured = rollouts.add_measurement(s, decided, rollout, {"measured_on": start, "reached": 4}, owner.id)
        items["rollout_measurement"] = measured.id
        # Weekly figures too, so the dashboard and the history answer with data, not only nulls.
        recompute(s, full=True)
        return items

    def backlog(s):
        found = [candidates.propose(s, {"title": title}, member.id) for title in ("Leads", "Angebote", "Reporting")]
        candidates.dismiss(s, found[2], "Später", owner.id)
        return [c.id for c in found]

    items = in_org(session, org, build)
    cycle_ids = [key for key in items if key != "rollout_measurement"]
    return make_token(session, org, owner), cycle_ids + in_org(session, org, backlog), member.id, items


def _aim(case, cycle_ids, member_id, items):
    """Steer part of the generated requests to where they succeed: most ids at real cycles (the rest stay
    random: 404), odd owners at a member, measurements mostly dated today, second cycles mostly confirmed."""
    # A stable coin per case (Hypothesis likes round numbers, so the ids themselves would be a poor one).
    coin = zlib.crc32(repr((case.path_parameters, case.query, case.body)).encode()) % 6
    cycle_id = (case.path_parameters or {}).get("cycle_id")
    if isinstance(cycle_id, int) and coin:
        case.path_parameters["cycle_id"] = cycle_ids[coin % 2]
        if isinstance(case.path_parameters.get("item_id"), int):
            case.path_parameters["item_id"] = items[cycle_ids[coin % 2]]
        if isinstance(case.path_parameters.get("measurement_id"), int):
            case.path_parameters["measurement_id"] = items["rollout_measurement"]
    candidate_id = (case.path_parameters or {}).get("candidate_id")
    if isinstance(candidate_id, int) and coin:
        case.path_parameters["candidate_id"] = cycle_ids[2 + coin % 3]
    body = case.body if isinstance(case.body, dict) else {}
    if isinstance(body.get("into_id"), int) and coin:
        body["into_id"] = cycle_ids[2 + (coin + 1) % 3]
    if isinstance(body.get("owner_id"), int) and coin % 2:
        body["owner_id"] = member_id
    if "measured_on" in body and coin % 3:
        body["measured_on"] = date.today().isoformat()
    if (case.method, case.path) == ("POST", "/api/v1/cycles") and "confirm_second_open" not in body:
        body["confirm_second_open"] = True


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=str)
def test_every_response_conforms_to_the_document(app, api_world, path, method, mode):
    token, cycle_ids, member_id, items = api_world
    config = schemathesis.Config()
    # NUL is refused (422) wherever text is stored; generating it everywhere would only test that.
    config.projects.default.generation.update(allow_x00=False)
    # Schemathesis asks for compressed answers like requests does, but its in-process transport does not
    # decode them; the document describes the bodies (tests/web/test_compression.py checks the encoding).
    config.projects.default.update(headers={"Accept-Encoding": "identity"})
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)[path][method]
    # Hypothesis seeds a derandomized run from run()'s source, which therefore names the checks as before.
    CHECKS = _checks(path)
    if mode == GenerationMode.NEGATIVE and not (operation.path_parameters or operation.query or operation.body):
        pytest.skip("nothing to make invalid")

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        _aim(case, cycle_ids, member_id, items)
        case.call_and_validate(headers=bearer(token), checks=CHECKS)

    run()


def test_bodies_nested_beyond_the_parser_are_a_400_problem(client, api_world, document):
    """Every operation with a body, JSON nested from a few levels to far beyond Python's recursion limit:
    an invalid document (400 when it cannot be read, 422 when it is not the schema's), never a 5xx."""
    token, cycle_ids, _member_id, items = api_world
    operations = [
        (
            path.replace("{cycle_id}", str(cycle_ids[1]))
            .replace("{candidate_id}", str(cycle_ids[2]))
            .replace("{item_id}", str(items[cycle_ids[1]]))
            .replace("{webhook_id}", "999999")
            .replace("{delivery_id}", "999999")
            .replace("{measurement_id}", str(items["rollout_measurement"])),
            method.upper(),
        )
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method != "parameters" and "requestBody" in op
    ]
    assert len(operations) == 21

    @given(operation=st.sampled_from(operations), body=nested_json)
    @settings(max_examples=40, deadline=None, derandomize=True, database=None)
    def run(operation, body):
        path, method = operation
        response = client.open(path, method=method, data=body, headers=bearer(token, **{"Content-Type": JSON}))
        assert response.status_code in (400, 422), (method, path, body[:40], response.status_code)
        assert response.mimetype == "application/problem+json"
        if response.status_code == 400:
            assert response.json["type"] == "/api/v1/docs#problem-bad-request"

    run()


def test_the_not_blank_pattern_is_what_strip_removes(document):
    # The document and the server check titles with one pattern; the rules (cycles/rules.py) strip().
    pattern = re.compile(NOT_BLANK)
    assert all((pattern.search(ch) is None) == ch.isspace() for ch in map(chr, range(sys.maxunicode + 1)))
    schemas = document["components"]["schemas"]
    title = schemas["CycleCreate"]["properties"]["title"]["pattern"]
    # A title is one line too: the pattern also refuses what the single-line check refuses.
    assert re.search(title, "Angebote dauern 9 Tage") and not re.search(title, " \t ")
    assert not re.search(title, "Angebote\n") and not re.search(title, "A\u202eB")
    why = schemas["CyclePatch"]["properties"]["why"]
    assert "pattern" not in why, "multi-line texts may be blank and hold line breaks"
    changes = {required for (required,) in (one["required"] for one in schemas["CyclePatch"]["anyOf"])}
    assert "title" in changes and "confirm_implausible" not in changes


# --- the stages' requirements: the document says what the rules say ---------------------------------

BLANKS = st.sampled_from([None, "", " ", "\t\n", "\u3000", "\x1c"])
FILLED = {
    "title": st.sampled_from(["x", " Vorlage ", "\u00a0K"]),
    "category": st.sampled_from(list(Category)),
    "hours_per_week": st.sampled_from([Decimal(0), Decimal("14")]),
    "kpi_name": st.just("Dauer"),
    "kpi_unit": st.just("Tage"),
    "kpi_direction": st.sampled_from(list(KpiDirection)),
    "kpi_baseline": st.just(Decimal("9")),
    "solution_what": st.just("Vorlage"),
    "solution_type": st.sampled_from(list(SolutionType)),
    "prototype_start": st.dates(),
    "decision": st.sampled_from(list(Decision)),
    "decision_reason": st.just("Wirkt"),
    "lessons_worked": st.just("Vorlage"),
    "lessons_failed": st.just("Export"),
    "lessons_differently": st.just("Früher messen"),
}


@st.composite
def cycle_fields(draw):
    """A cycle's fields, all filled but a few: missing, or blank where they are texts."""
    values = draw(st.fixed_dictionaries(FILLED))
    for name in draw(st.sets(st.sampled_from(sorted(FILLED)), max_size=4)):
        values[name] = draw(BLANKS) if isinstance(values[name], str) else None
    return values


def test_the_stage_requirements_in_the_document_are_the_rules(document):
    """For cycles with any of the fields filled, blank or missing: a cycle's document satisfies a stage's
    schema in ``x-stage-requirements`` exactly when the rules let the cycle enter that stage."""
    requirements = document["components"]["schemas"]["Cycle"]["x-stage-requirements"]
    assert document["components"]["schemas"]["StageChange"]["x-stage-requirements"] == requirements
    assert list(requirements) == [stage.value for stage in Stage]
    validators = {stage: jsonschema_rs.validator_for(requirements[stage.value]) for stage in Stage}
    described = document["components"]["schemas"]["StageChange"]["properties"]["stage"]["description"]
    assert "`solution`: `title`, `category`, `hours_per_week`" in described

    @given(values=cycle_fields(), measurements=st.integers(min_value=0, max_value=2))
    @settings(max_examples=150, deadline=None, derandomize=True, database=None)
    def run(values, measurements):
        cycle = Cycle(**values)
        shown = CycleSchema(only=[*values, "measurement_count"]).dump({**values, "measurement_count": measurements})
        for stage in Stage:
            allowed = problems_to_enter(cycle, stage, measurements) == []
            assert validators[stage].is_valid(shown) == allowed, (stage, shown)

    run()
