"""Features register themselves (engpass.features): what each declares in its ``feature.py`` is what the app,
Alembic, the workers and the resend sweep wire — nothing declared is left out, nothing wired is undeclared."""

from __future__ import annotations

import ast
from importlib import import_module
from pathlib import Path

from engpass import features, task_names
from engpass.db import Base
from engpass.feature import load
from engpass.notifications import resend
from engpass.settings import REPO_ROOT

SOURCE = REPO_ROOT / "platform" / "engpass"
# flask-smorest registers these two itself when the API's setup runs (engpass.api.extension.init_api).
REGISTERED_BY_THE_API_SETUP = {"api", "api-docs"}
# The app's own routes: the static files and the landing page.
APP_ENDPOINTS = {"static", "index"}


def _module_of(path: Path) -> str:
    return ".".join(("engpass", *path.relative_to(SOURCE).with_suffix("").parts))


def _source_files() -> list[Path]:
    return sorted(SOURCE.rglob("*.py"))


def test_every_feature_declared_in_a_folder_is_listed_once_under_its_folders_name():
    declared = {path.parent.name for path in SOURCE.glob("*/feature.py")}
    listed = [feature.name for feature in features.FEATURES]
    assert sorted(listed) == sorted(set(listed)), "a feature is listed twice"
    assert declared - set(listed) == set(), "declared in a feature.py but missing from engpass.features"
    for feature in features.FEATURES:
        assert import_module(f"engpass.{feature.name}.feature").FEATURE is feature


def test_a_declaration_imports_nothing_of_its_room():
    # Read early by features.py, models.py and the resend sweep: a room's import there could close a cycle.
    for path in SOURCE.glob("*/feature.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        assert imported <= {"__future__.annotations", "engpass.feature.Feature", "engpass.task_names"}, path


def test_every_declared_blueprint_is_registered_and_nothing_else(app):
    declared = {}
    for feature in features.FEATURES:
        for reference in feature.blueprints:
            blueprint = load(reference)
            declared[blueprint.name] = blueprint
            assert app.blueprints[blueprint.name] is blueprint, reference
    assert set(app.blueprints) == set(declared) | REGISTERED_BY_THE_API_SETUP


def test_every_route_belongs_to_a_registered_blueprint_or_the_app(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {endpoint for endpoint in endpoints if "." not in endpoint} == APP_ENDPOINTS
    assert {endpoint.partition(".")[0] for endpoint in endpoints if "." in endpoint} <= set(app.blueprints)
    # The dashboard's blueprint is declared through its settings pages: both halves must be on it.
    assert {"organizations.home", "organizations.settings"} <= endpoints


def test_the_declared_blueprints_that_take_no_cookie_form_are_exempt_from_csrf(app):
    from engpass.extensions import csrf

    exempt = {blueprint.name for blueprint in csrf._exempt_blueprints}
    declared = {load(reference).name for feature in features.FEATURES for reference in feature.csrf_exempt}
    assert declared == {"api", "health"}
    assert declared <= exempt


def test_every_model_modules_tables_are_in_the_metadata():
    tables_of: dict[str, set[str]] = {module: set() for module in features.model_modules()}
    for mapper in Base.registry.mappers:
        tables_of[mapper.class_.__module__].add(mapper.local_table.name)
    assert all(tables_of.values()), "a declared model module maps no table"
    assert set().union(*tables_of.values()) == set(Base.metadata.tables)


def test_every_module_that_defines_a_table_is_declared():
    # A model module no one imports would be missing from the metadata without a trace: read the source.
    defining = {
        _module_of(path)
        for path in _source_files()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef)
        and any(
            isinstance(statement, ast.AnnAssign | ast.Assign) and "__tablename__" in ast.unparse(statement)
            for statement in node.body
        )
    }
    assert "engpass.cycles.models" in defining
    assert defining == set(features.model_modules())


def test_every_task_module_is_imported_and_every_task_name_registered_by_its_feature(celery):
    assert celery.conf.include == features.task_modules()
    owner = {name: feature for feature in features.FEATURES for name in feature.tasks}
    assert len(owner) == sum(len(feature.tasks) for feature in features.FEATURES), "a task name declared twice"
    for name, feature in owner.items():
        assert name in celery.tasks, name
        assert celery.tasks[name].__module__ == feature.task_module, name
    ours = {name for name in celery.tasks if name.startswith("engpass.")}
    assert ours == set(owner)


def test_every_task_name_is_declared_by_a_feature():
    names = {value for key, value in vars(task_names).items() if key.isupper()}
    assert names == {name for feature in features.FEATURES for name in feature.tasks}


def test_every_periodic_task_is_a_declared_task(celery):
    declared = {name for feature in features.FEATURES for name in feature.tasks}
    scheduled = {entry["task"] for entry in celery.conf.beat_schedule.values()}
    assert task_names.OUTBOX_SWEEP in scheduled
    assert scheduled <= declared


def _assigned_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Assign):
        return [getattr(target, "id", "") for target in node.targets]
    return [getattr(node.target, "id", "")] if isinstance(node, ast.AnnAssign) else []


def _kind_constants() -> dict[str, str]:
    """Every send-log kind (or kind prefix) the code names: module constants ``KIND``, ``KIND_PREFIX``,
    ``*_KIND``, where each module that writes the send log keeps them."""
    found = {}
    for path in _source_files():
        module = _module_of(path)
        for node in ast.parse(path.read_text()).body:
            for name in _assigned_names(node):
                if name in ("KIND", "KIND_PREFIX") or name.endswith("_KIND"):
                    found[f"{module}.{name}"] = getattr(import_module(module), name)
    return found


def test_every_send_log_kind_has_a_resender():
    kinds = _kind_constants()
    assert kinds["engpass.accounts.welcome.KIND"] == "welcome"
    assert kinds["engpass.digest.sending.CLIENTS_KIND"] == "digest.clients"
    without = {constant: kind for constant, kind in kinds.items() if resend.resender_for(kind) is None}
    assert without == {}


def test_every_declared_resender_names_a_kind_the_code_writes():
    kinds = set(_kind_constants().values())
    declared = set(features.resenders())
    assert declared <= kinds
    assert {kind: load(reference) for kind, reference in features.resenders().items()} == resend.RESENDERS
