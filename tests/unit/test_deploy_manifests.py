"""The Kubernetes manifests of ``deploy/``: each resource valid against the API schemas (``kubernetes-validate``,
strict: an unknown or misspelt field is an error) of the oldest and the newest Kubernetes version we support, and
what an operator relies on: at least two replicas probed on ``/health``, a migration Job as the owner role, a
disruption budget, an autoscaler and network policies that select the pods, non-root read-only containers, and
secrets referenced, never written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.utils.latest_version())
IMAGE_USER = 10001
"""The user of the Dockerfile (``useradd --uid 10001``)."""


def manifest_files(root: Path) -> list[Path]:
    return sorted(path for path in (root / "deploy").glob("*.yaml") if path.name != "kustomization.yaml")


def resources(root: Path) -> list[dict[str, Any]]:
    found = []
    for path in manifest_files(root):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document:
                found.append(document | {"__file__": path.name})
    return found


def one(root: Path, kind: str, name: str | None = None) -> dict[str, Any]:
    (found,) = [r for r in resources(root) if r["kind"] == kind and name in (None, r["metadata"]["name"])]
    return found


def without_file(resource: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in resource.items() if key != "__file__"}


def containers(resource: dict[str, Any]) -> list[dict[str, Any]]:
    spec = resource["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_resource_is_valid_for_kubernetes(repo_root: Path, version: str) -> None:
    found = resources(repo_root)
    assert {r["kind"] for r in found} >= {
        "Deployment",
        "Job",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "NetworkPolicy",
        "ConfigMap",
        "ServiceAccount",
    }
    for resource in found:
        try:  # a missing schema (an unknown kind or apiVersion) is an error too, not the command line's warning
            kubernetes_validate.validate(without_file(resource), version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(part) for part in exc.path)
            pytest.fail(f"{resource['__file__']}: {resource['kind']} {path}: {exc.message}")


def test_the_validation_catches_a_misspelt_field(repo_root: Path) -> None:
    deployment = without_file(one(repo_root, "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/health"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


def test_the_kustomization_lists_every_manifest(repo_root: Path) -> None:
    kustomization = yaml.safe_load((repo_root / "deploy" / "kustomization.yaml").read_text(encoding="utf-8"))
    assert sorted(kustomization["resources"]) == [path.name for path in manifest_files(repo_root)]


def test_the_deployment_runs_replicas_probed_on_health(repo_root: Path) -> None:
    deployment = one(repo_root, "Deployment")
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    (api,) = containers(deployment)
    ports = {port["name"]: port["containerPort"] for port in api["ports"]}
    config = one(repo_root, "ConfigMap")["data"]
    assert ports["http"] == int(config["RP_PORT"])  # the port the service binds is the one probed
    assert config["RP_HOST"] == "0.0.0.0"  # noqa: S104 - in a pod, reached through its IP
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert api[probe]["httpGet"] == {"path": "/health", "port": "http"}, probe
    # liveness gives a database outage (503 on /health) time before restarting: readiness takes the pod out first
    liveness, readiness = api["livenessProbe"], api["readinessProbe"]
    assert liveness["periodSeconds"] * liveness["failureThreshold"] >= 60
    assert readiness["periodSeconds"] * readiness["failureThreshold"] < 60
    # the start-up probe outlasts the service's own wait for the database
    startup = api["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] > float(config["RP_DB_STARTUP_WAIT_S"])
    workers = int(api["args"][api["args"].index("--workers") + 1])
    assert 1 <= workers <= float(api["resources"]["limits"]["cpu"])


def test_the_pods_run_as_the_images_user_on_a_read_only_root(repo_root: Path) -> None:
    dockerfile = (repo_root / "Dockerfile").read_text(encoding="utf-8")
    assert f"USER {IMAGE_USER}" in dockerfile
    for kind in ("Deployment", "Job"):
        resource = one(repo_root, kind)
        pod = resource["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == IMAGE_USER
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        for container in containers(resource):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert "memory" in container["resources"]["limits"]
            mounts = {mount["mountPath"] for mount in container.get("volumeMounts", [])}
            assert "/tmp" in mounts  # noqa: S108 - a writable emptyDir for what needs a temporary file


def _secret_references(resource: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for container in containers(resource):
        for variable in container.get("env", []):
            reference = variable.get("valueFrom", {}).get("secretKeyRef")
            if reference:
                yield variable["name"], f"{reference['name']}/{reference['key']}"
    for volume in resource["spec"]["template"]["spec"].get("volumes", []):
        if "secret" in volume:
            for item in volume["secret"]["items"]:
                yield volume["name"], f"{volume['secret']['secretName']}/{item['key']}"


def test_database_urls_and_audit_keys_come_from_secrets_never_written_here(repo_root: Path) -> None:
    deployment, job = one(repo_root, "Deployment"), one(repo_root, "Job")
    assert set(_secret_references(deployment)) == {
        ("RP_DATABASE_URL", "rp-api-database/runtime-url"),
        ("audit-keys", "rp-api-audit-keys/hmac-keys"),
        ("audit-keys", "rp-api-audit-keys/checkpoint-signing-key.pem"),
    }
    assert set(_secret_references(job)) == {
        ("RP_MIGRATION_DATABASE_URL", "rp-api-database/migration-url"),  # the owner role
        ("RP_DATABASE_URL", "rp-api-database/runtime-url"),  # the role it grants to
    }
    config = one(repo_root, "ConfigMap")["data"]
    (api,) = containers(deployment)
    mount = next(m["mountPath"] for m in api["volumeMounts"] if m["name"] == "audit-keys")
    assert config["RP_AUDIT_KEY_FILE"] == f"{mount}/hmac-keys"
    assert config["RP_AUDIT_SIGNING_KEY_FILE"] == f"{mount}/checkpoint-signing-key.pem"
    assert "Secret" not in {r["kind"] for r in resources(repo_root)}
    for path in (repo_root / "deploy").glob("*"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"://[^/\s:@]+:[^@\s]+@", text), f"{path.name} holds a password in a URL"
        assert "BEGIN PRIVATE KEY" not in text
    assert not {key for key in config if re.search(r"DATABASE_URL|KEY$|PASSWORD|SECRET", key)}


def test_the_migration_job_runs_migrate_once(repo_root: Path) -> None:
    job = one(repo_root, "Job")
    (migrate,) = containers(job)
    assert migrate["command"] == ["rp-api", "migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")
    assert job["spec"]["backoffLimit"] <= 5
    assert migrate["image"] == containers(one(repo_root, "Deployment"))[0]["image"]  # the same release


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def test_the_budget_the_autoscaler_the_service_and_the_policies_select_the_pods(repo_root: Path) -> None:
    deployment = one(repo_root, "Deployment")
    pods = deployment["spec"]["template"]["metadata"]["labels"]
    migration = one(repo_root, "Job")["spec"]["template"]["metadata"]["labels"]
    assert _selects(deployment["spec"]["selector"]["matchLabels"], pods)
    budget = one(repo_root, "PodDisruptionBudget")["spec"]
    assert _selects(budget["selector"]["matchLabels"], pods)
    assert not _selects(budget["selector"]["matchLabels"], migration)
    assert 1 <= budget["minAvailable"] < deployment["spec"]["replicas"]
    autoscaler = one(repo_root, "HorizontalPodAutoscaler")["spec"]
    assert autoscaler["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "rp-api"}
    assert autoscaler["minReplicas"] >= 2
    assert autoscaler["maxReplicas"] > autoscaler["minReplicas"]
    service = one(repo_root, "Service")["spec"]
    assert _selects(service["selector"], pods)
    assert not _selects(service["selector"], migration)
    policies = {p["metadata"]["name"]: p["spec"] for p in resources(repo_root) if p["kind"] == "NetworkPolicy"}
    api_policy = next(p for p in policies.values() if _selects(p["podSelector"]["matchLabels"], pods))
    job_policy = next(p for p in policies.values() if _selects(p["podSelector"]["matchLabels"], migration))
    assert set(api_policy["policyTypes"]) == set(job_policy["policyTypes"]) == {"Ingress", "Egress"}
    ingress = {port["port"]: rule["from"] for rule in api_policy["ingress"] for port in rule["ports"]}
    assert set(ingress) == {"http", "metrics"}  # the API from the ingress controller, metrics from monitoring only
    assert ingress["http"] != ingress["metrics"]
    container_ports = {
        p["name"]: p["containerPort"] for p in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]
    }
    config = one(repo_root, "ConfigMap")["data"]
    assert container_ports == {"http": int(config["RP_PORT"]), "metrics": int(config["RP_METRICS_PORT"])}
    assert job_policy["ingress"] == []
    job_ports = {port["port"] for rule in job_policy["egress"] for port in rule["ports"]}
    assert job_ports == {53, 5432}
