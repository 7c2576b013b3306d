"""The deployment's files agree with each other and with the app: the same process commands as
deploy/Procfile, one scheduler, two web replicas with the health probes, a non-root image, and only
settings the app knows. Static: neither Docker nor Kubernetes runs here (the smoke test runs the
processes themselves)."""

from __future__ import annotations

import re
import runpy
import shlex
from dataclasses import fields
from typing import Any

import pytest
import yaml
from flask import Flask

from engpass import task_names
from engpass.settings import PREFIX, REPO_ROOT, Settings
from tests.support.processes import procfile_commands
from workers.tasks.exports import EXPORT_SOFT_LIMIT

DEPLOY = REPO_ROOT / "deploy"
SETTINGS = {PREFIX + f.name.upper() for f in fields(Settings)}
# Read by deploy/gunicorn.conf.py, deploy/Procfile and the migration step, not by Settings.
PROCESS_VARIABLES = {"PORT", "GUNICORN_BIND", "GUNICORN_WORKERS", "GUNICORN_TIMEOUT", "CELERY_BEAT_SCHEDULE"}
MIGRATION_VARIABLES = {"APP_DB_PASSWORD"}
# Compose only: the app role's name, which its migrate service creates.
COMPOSE_MIGRATION_VARIABLES = {"APP_DB_USER"}
BEAT_SCHEDULE = "/var/lib/engpass/celerybeat-schedule"


def procfile(name: str) -> list[str]:
    """A Procfile command as an argument list, the beat's schedule file as the image places it."""
    command = procfile_commands()[name].replace('"${CELERY_BEAT_SCHEDULE:-/tmp/celerybeat-schedule}"', BEAT_SCHEDULE)
    return shlex.split(command)


def unknown_settings(names: set[str]) -> set[str]:
    return {name for name in names if name.startswith(PREFIX) and name not in SETTINGS}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def manifests() -> dict[tuple[str, str], dict[str, Any]]:
    """Every object of deploy/k8s by (kind, name)."""
    objects = {}
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and "metadata" in document:
                objects[(document["kind"], document["metadata"]["name"])] = document
    return objects


# --- Dockerfile --------------------------------------------------------------------------------------


def test_the_image_is_built_in_two_stages_and_runs_as_a_user_without_root() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)$", dockerfile, re.MULTILINE)
    assert stages == ["builder", "runtime"]
    runtime = dockerfile.split("AS runtime", 1)[1]
    users = re.findall(r"^USER (\S+)$", runtime, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime
    # No compiler in the runtime stage; the dependencies pinned by the lock, without the dev extra.
    assert "build-essential" not in runtime
    assert "--constraint requirements.lock" in dockerfile and "[dev]" not in dockerfile
    assert "pybabel compile" in dockerfile
    assert re.search(r"HEALTHCHECK .*\n.*/livez", runtime)
    cmd = re.search(r"^CMD (\[.*\])$", runtime, re.MULTILINE).group(1)
    assert yaml.safe_load(cmd) == procfile("web")


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, as far as these patterns use it: a pattern matches the path or one of its parents,
    ``*`` stays within one path segment, a leading ``**/`` matches any number of them, ``!`` lets a path in
    again, and the last pattern that matches decides."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        allow = pattern.startswith("!")
        regex = re.escape(pattern.removeprefix("!")).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            ignored = not allow
    return ignored


def test_the_build_context_leaves_out_local_state_and_secrets_for_both_builders() -> None:
    # The classic builder reads only <context>/.dockerignore; BuildKit prefers <Dockerfile>.dockerignore.
    assert not (DEPLOY / "Dockerfile.dockerignore").exists()
    patterns = [
        line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines() if line.strip()[:1] not in "#"
    ]
    for path in (
        ".git/config",
        ".venv/bin/python",
        "instance/secret_key",
        "instance/engpass.sqlite3",
        "tests/conftest.py",
        "deploy/.env",
        "deploy/production.env",
        "platform/engpass/__pycache__/app.cpython-311.pyc",
        "engpass-2026-12-01.dump",
        "artifacts/screenshots/a.png",
        ".venv-k8s-check/bin/checkov",
        "node_modules/x/index.js",
        "docs/operations.md",
        "platform/engpass/.env",
        "platform/engpass/translations/de/LC_MESSAGES/messages.mo",
        "platform/engpass.egg-info/SOURCES.txt",
    ):
        assert _ignored(path, patterns), path
    for path in (
        "platform/engpass/app.py",
        "platform/engpass/static/app.css",
        "workers/celery_app.py",
        "migrations/env.py",
        "templates/base.html",
        "deploy/gunicorn.conf.py",
        "requirements.lock",
        "pyproject.toml",
        "README.md",
        "alembic.ini",
    ):
        assert not _ignored(path, patterns), path


def test_the_image_sets_only_settings_the_app_knows() -> None:
    names = set(re.findall(r"\b([A-Z][A-Z0-9_]+)=", (DEPLOY / "Dockerfile").read_text()))
    assert not unknown_settings(names)
    assert {"ENGPASS_EXPORT_DIR", "ENGPASS_INSTANCE_DIR", "CELERY_BEAT_SCHEDULE"} <= names


# --- docker-compose.yml ------------------------------------------------------------------------------


def test_compose_runs_the_procfiles_commands(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["web"]["command"] == procfile("web")
    assert services["worker"]["command"] == procfile("worker")
    assert services["scheduler"]["command"] == procfile("scheduler")
    assert "engpass db upgrade && engpass db create-app-role" in " ".join(services["migrate"]["command"])


def test_compose_has_two_web_replicas_behind_one_port_and_one_scheduler(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["web"]["deploy"]["replicas"] == 2
    assert "ports" not in services["web"]
    assert services["proxy"]["ports"] == ["${HTTP_PORT:-8000}:80"]
    beats = [name for name, service in services.items() if "beat" in service.get("command", [])]
    assert beats == ["scheduler"] and services["scheduler"]["deploy"]["replicas"] == 1


def test_compose_migrates_first_and_waits_for_healthy_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["worker"]["stop_grace_period"] == "32m" and EXPORT_SOFT_LIMIT + 60 < 32 * 60
    assert services["web"]["stop_grace_period"] == "30s"
    for name in ("web", "worker", "scheduler"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"
    # Readiness before traffic: the web's healthcheck is /healthz (database reachable), not the image's /livez.
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_the_proxy_follows_the_web_replicas_without_a_reload(compose: dict[str, Any], app: Flask) -> None:
    nginx = (DEPLOY / "nginx.conf").read_text()
    lines = [line.strip() for line in nginx.splitlines()]
    directives = {line.split()[0]: line.rstrip(";") for line in lines if line[:1].isalpha()}
    # `web` in a variable is resolved at run time through Docker's DNS, with short-lived answers; an
    # `upstream` block would keep the addresses nginx found when it started.
    assert "upstream" not in directives
    assert re.fullmatch(r"resolver 127\.0\.0\.11 valid=1s ipv6=off", directives["resolver"])
    assert directives["set"] == "set $engpass_web web:8000"
    assert directives["proxy_pass"] == "proxy_pass http://$engpass_web"
    assert directives["proxy_next_upstream"] == "proxy_next_upstream error timeout http_502 http_503"
    assert directives["proxy_connect_timeout"] == "proxy_connect_timeout 1s"
    # Requests the app accepts pass the proxy.
    size = re.fullmatch(r"client_max_body_size (\d+)m", directives["client_max_body_size"])
    assert size and int(size.group(1)) * 1024 * 1024 == app.config["MAX_CONTENT_LENGTH"]
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert f"proxy_set_header {header} " in nginx
    proxy = compose["services"]["proxy"]
    assert proxy["build"]["dockerfile"] == "deploy/Dockerfile.proxy" and proxy["image"] == "engpass-proxy:latest"
    assert "./nginx.conf:/etc/nginx/conf.d/default.conf:ro" in proxy["volumes"]
    dockerfile = (DEPLOY / "Dockerfile.proxy").read_text()
    assert "USER www-data" in dockerfile and "STOPSIGNAL SIGQUIT" in dockerfile


def test_compose_keeps_the_brokers_queue_and_the_app_role_name_consistent(compose: dict[str, Any]) -> None:
    services = compose["services"]
    # The digest round's batches wait in Redis: it persists them (append-only file) on a volume.
    assert "--appendonly" in services["redis"]["command"] and "yes" in services["redis"]["command"]
    assert any(volume.endswith(":/data") for volume in services["redis"]["volumes"])
    # migrate creates the role under the very name the other services log in with.
    assert '--name "$$APP_DB_USER"' in " ".join(services["migrate"]["command"])
    assert services["migrate"]["environment"]["APP_DB_USER"] == "${APP_DB_USER:-engpass_app}"
    assert services["web"]["environment"]["ENGPASS_DATABASE_URL"].startswith(
        "postgresql://${APP_DB_USER:-engpass_app}:"
    )


def test_compose_shares_one_volume_and_sets_known_settings(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("migrate", "web", "worker", "scheduler"):
        assert "engpass-data:/var/lib/engpass" in services[name]["volumes"]
        environment = set(services[name]["environment"])
        assert not unknown_settings(environment)
        assert environment <= SETTINGS | PROCESS_VARIABLES | MIGRATION_VARIABLES | COMPOSE_MIGRATION_VARIABLES
        assert {"ENGPASS_DATABASE_URL", "ENGPASS_REDIS_URL"} <= environment
        owner_url = "ENGPASS_MIGRATION_DATABASE_URL" in environment
        assert owner_url == (name == "migrate"), f"{name} must {'' if name == 'migrate' else 'not '}get the owner's URL"
    # The image's pg_dump (Debian bookworm's, 15) must not be older than the server it backs up.
    assert "postgres:15" in services["postgres"]["image"] and "pgdata:/var/lib/postgresql/data" in str(
        services["postgres"]["volumes"]
    )
    interpolated = set(re.findall(r"\$\{(\w+)", (DEPLOY / "docker-compose.yml").read_text()))
    example = set(re.findall(r"^(\w+)=", (DEPLOY / "compose.env.example").read_text(), re.MULTILINE))
    assert interpolated <= example


# --- Kubernetes ------------------------------------------------------------------------------------


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_kubernetes_runs_the_procfiles_commands(manifests: dict[tuple[str, str], dict[str, Any]]) -> None:
    # `args`, never `command`: the image's ENTRYPOINT (tini) must stay in front of every process.
    assert _container(manifests[("Deployment", "engpass-web")])["args"] == procfile("web")
    assert _container(manifests[("Deployment", "engpass-worker")])["args"] == procfile("worker")
    assert _container(manifests[("Deployment", "engpass-beat")])["args"] == procfile("scheduler")
    job = _container(manifests[("Job", "engpass-migrate")])
    assert job["args"][:2] == ["sh", "-c"]
    assert job["args"][2].startswith("engpass db upgrade && engpass db create-app-role")
    for (kind, _name), workload in manifests.items():
        if kind in ("Deployment", "Job"):
            pod = workload["spec"]["template"]["spec"]
            assert all("command" not in c for c in pod["containers"] + pod.get("initContainers", []))


def test_kubernetes_two_web_pods_with_probes_and_exactly_one_beat(
    manifests: dict[tuple[str, str], dict[str, Any]],
) -> None:
    web = manifests[("Deployment", "engpass-web")]
    assert web["spec"]["replicas"] == 2
    assert _container(web)["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert _container(web)["livenessProbe"]["httpGet"]["path"] == "/livez"
    beat = manifests[("Deployment", "engpass-beat")]
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"
    beats = [key for key, obj in manifests.items() if key[0] == "Deployment" and "beat" in _container(obj)["args"]]
    assert beats == [("Deployment", "engpass-beat")]


def test_kubernetes_objects_fit_together(manifests: dict[tuple[str, str], dict[str, Any]]) -> None:
    service = manifests[("Service", "engpass-web")]
    web = manifests[("Deployment", "engpass-web")]
    assert service["spec"]["selector"] == web["spec"]["selector"]["matchLabels"]
    backend = manifests[("Ingress", "engpass")]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "engpass-web", "port": {"name": "http"}}
    assert manifests[("PersistentVolumeClaim", "engpass-data")]["spec"]["accessModes"] == ["ReadWriteMany"]
    workloads = [obj for (kind, _name), obj in manifests.items() if kind in ("Deployment", "Job")]
    assert len(workloads) == 4
    for workload in workloads:
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert (
            workload["spec"]["template"]["metadata"]["labels"].items()
            >= workload["spec"].get("selector", {"matchLabels": {}})["matchLabels"].items()
        )
        claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v]
        assert claims == ["engpass-data"]
        sources = {ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in _container(workload)["envFrom"]}
        migration = {"engpass-migration-secrets"} if workload["kind"] == "Job" else set()
        assert sources == {"engpass-config", "engpass-secrets"} | migration
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    files = {path.name for path in (DEPLOY / "k8s").glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files


def test_kubernetes_sets_only_settings_the_app_knows(manifests: dict[tuple[str, str], dict[str, Any]]) -> None:
    config = set(manifests[("ConfigMap", "engpass-config")]["data"])
    secret = set(manifests[("Secret", "engpass-secrets")]["stringData"])
    migration = set(manifests[("Secret", "engpass-migration-secrets")]["stringData"])
    assert not unknown_settings(config | secret | migration)
    assert config | secret <= SETTINGS | PROCESS_VARIABLES
    assert migration == {"ENGPASS_MIGRATION_DATABASE_URL"} | MIGRATION_VARIABLES
    assert not (config | secret) & migration, "every pod reads engpass-secrets; the owner's URL is the Job's alone"


# --- env.example -----------------------------------------------------------------------------------


def test_the_env_example_lists_every_setting_and_nothing_else() -> None:
    text = (DEPLOY / "env.example").read_text()
    # Set or commented out (`# ENGPASS_INSTANCE_DIR=…`), each one is listed.
    listed = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))
    assert listed == SETTINGS | PROCESS_VARIABLES


def _pods(manifests: dict[tuple[str, str], dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: obj["spec"]["template"]["spec"]
        for (kind, name), obj in manifests.items()
        if kind in ("Deployment", "Job")
    }


def _all_containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return pod["containers"] + pod.get("initContainers", [])


def test_kubernetes_pods_are_hardened(manifests: dict[tuple[str, str], dict[str, Any]]) -> None:
    for name, pod in _pods(manifests).items():
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in _all_containers(pod):
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), (name, container["name"])
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), (name, container["name"])
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]


def test_kubernetes_objects_share_a_namespace_that_enforces_the_restricted_pod_standard(
    manifests: dict[tuple[str, str], dict[str, Any]],
) -> None:
    namespace = manifests[("Namespace", "engpass")]["metadata"]["labels"]
    assert namespace["pod-security.kubernetes.io/enforce"] == "restricted"
    for (kind, name), obj in manifests.items():
        if kind != "Namespace":
            assert obj["metadata"]["namespace"] == "engpass", (kind, name)


def test_kubernetes_deployments_wait_for_their_own_images_migration_head(
    manifests: dict[tuple[str, str], dict[str, Any]],
) -> None:
    """`engpass db wait` returns only at this image's head (tests/unit/test_migrations.py): new pods stay unready
    until the migration Job of their release has run, whatever order `kubectl apply` creates things in."""
    for (kind, name), deployment in manifests.items():
        if kind != "Deployment":
            continue
        pod = deployment["spec"]["template"]["spec"]
        (wait,) = pod["initContainers"]
        assert wait["image"] == _container(deployment)["image"], name
        assert wait["args"][:3] == ["engpass", "db", "wait"] and wait["args"][3] == "--timeout", name
        assert len(wait["args"]) == 5 and int(wait["args"][4]) > 0, name
    job = manifests[("Job", "engpass-migrate")]["spec"]
    # The Job must not wait for the head it is there to make.
    assert "initContainers" not in job["template"]["spec"]
    assert job["template"]["spec"]["restartPolicy"] == "Never"
    # Retried a little; gone a while after it finished, so the next release's Job can take its name.
    assert 0 < job["backoffLimit"] <= 3 and job["ttlSecondsAfterFinished"] > 0


def _secrets_read(pod: dict[str, Any], container: dict[str, Any]) -> set[str]:
    names = {ref["secretRef"]["name"] for ref in container.get("envFrom", []) if "secretRef" in ref}
    names |= {v["valueFrom"]["secretKeyRef"]["name"] for v in container.get("env", []) if "valueFrom" in v}
    return names | {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}


def test_kubernetes_only_the_migration_job_reads_the_owners_credentials(
    manifests: dict[tuple[str, str], dict[str, Any]],
) -> None:
    readers = {
        (name, container["name"])
        for name, pod in _pods(manifests).items()
        for container in _all_containers(pod)
        if "engpass-migration-secrets" in _secrets_read(pod, container)
    }
    assert readers == {("engpass-migrate", "migrate")}


def test_kubernetes_web_rolls_without_refusing_a_request(manifests: dict[tuple[str, str], dict[str, Any]]) -> None:
    web = manifests[("Deployment", "engpass-web")]
    assert web["spec"]["replicas"] == 2
    assert web["spec"]["strategy"]["type"] == "RollingUpdate"
    assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    container = _container(web)
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    pause = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pause[0] == "sleep" and int(pause[1]) > 0
    gunicorn = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    # The grace period runs from the preStop pause on; gunicorn then has its graceful_timeout for the requests.
    assert (
        web["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > int(pause[1]) + gunicorn["graceful_timeout"]
    )


def test_kubernetes_worker_outlasts_the_longest_task(
    manifests: dict[tuple[str, str], dict[str, Any]], celery: Any
) -> None:
    limits = [
        task.time_limit or celery.conf.task_time_limit
        for name, task in celery.tasks.items()
        if not name.startswith("celery.")
    ]
    assert task_names.EXPORT_ORGANIZATION in celery.tasks, "the task modules are loaded"
    worker = manifests[("Deployment", "engpass-worker")]["spec"]["template"]["spec"]
    # Celery's warm shutdown waits for the running tasks; a task's hard time limit ends it at the latest.
    assert worker["terminationGracePeriodSeconds"] > max(limits)


def test_kubernetes_disruption_budget_and_network_policies(manifests: dict[tuple[str, str], dict[str, Any]]) -> None:
    web = manifests[("Deployment", "engpass-web")]["spec"]
    budget = manifests[("PodDisruptionBudget", "engpass-web")]["spec"]
    assert budget["selector"] == web["selector"]
    assert 0 < budget["minAvailable"] < web["replicas"], "a drain can go on, yet one web pod always serves"

    every_pod = manifests[("NetworkPolicy", "engpass")]["spec"]
    assert every_pod["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "engpass"}
    assert set(every_pod["policyTypes"]) == {"Ingress", "Egress"} and "ingress" not in every_pod
    egress = {(port["protocol"], port["port"]) for rule in every_pod["egress"] for port in rule["ports"]}
    assert {("UDP", 53), ("TCP", 53), ("TCP", 5432), ("TCP", 6379), ("TCP", 587)} <= egress
    assert all("to" not in rule for rule in every_pod["egress"]), "managed databases live outside the cluster"

    web_in = manifests[("NetworkPolicy", "engpass-web")]["spec"]
    assert web_in["podSelector"] == web["selector"]
    (rule,) = web_in["ingress"]
    (source,) = rule["from"]
    controller = manifests[("Ingress", "engpass")]["spec"]["ingressClassName"]
    assert source["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": f"ingress-{controller}"}
    port = _container(manifests[("Deployment", "engpass-web")])["ports"][0]["containerPort"]
    assert rule["ports"] == [{"protocol": "TCP", "port": port}]


def test_kubernetes_policy_checks_are_skipped_only_with_a_reason(
    manifests: dict[tuple[str, str], dict[str, Any]],
) -> None:
    skips = [
        value
        for obj in manifests.values()
        for key, value in obj["metadata"].get("annotations", {}).items()
        if key.startswith("checkov.io/skip")
    ]
    assert skips
    for skip in skips:
        check, _, reason = skip.partition("=")
        assert re.fullmatch(r"CKV2?_K8S_\d+", check), skip
        assert len(reason.split()) >= 5, f"{check} is skipped without a real reason"


def test_the_kubernetes_check_runs_in_ci_with_tools_outside_the_lock() -> None:
    assert "\n.ci/k8s-check\n" in (REPO_ROOT / ".ci" / "run").read_text()
    pins = (REPO_ROOT / ".ci" / "k8s-check-requirements.txt").read_text()
    tools = set(re.findall(r"^([a-z][a-z0-9-]*)==", pins, re.MULTILINE))
    assert tools == {"kubernetes-validate", "checkov"}
    locked = set(re.findall(r"^([A-Za-z0-9_.-]+)==", (REPO_ROOT / "requirements.lock").read_text(), re.MULTILINE))
    assert not tools & {name.lower() for name in locked}
