"""Trino's door in the chart (issue 20 item 2, docs/security.md "Trino"), render-tested: HTTPS with
a bcrypt password file and file-based rules; passwords, shared secret and certificate generated
into Secrets (or existing ones named), never in values, ConfigMaps, env literals or images; each
client mounts its own password only."""

import base64
import json
import re
import subprocess

import bcrypt
import pytest
import yaml
from chartlib import CHART, REPO, SCENARIOS

from questline_events import DATABASE, TRINO_CATALOG, TRINO_PIPELINE_USER, TRINO_USERS

pytestmark = pytest.mark.charts

AUTH, TLS = "questline-trino-auth", "questline-trino-tls"


def _named(resources, kind: str, name: str) -> dict:
    (found,) = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    return found


def _decoded(secret: dict) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def _container(resources, kind: str, name: str) -> tuple[dict, dict]:
    spec = _named(resources, kind, name)["spec"]
    spec = spec.get("jobTemplate", {}).get("spec", spec)
    spec = spec["template"]["spec"] if "template" in spec else spec
    return spec, spec["containers"][0]


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_every_user_gets_a_random_password_whose_bcrypt_hash_trino_checks(render, files):
    _, resources = render(files)
    auth = _decoded(_named(resources, "Secret", AUTH))
    assert set(auth) == {*(f"password-{u}" for u in TRINO_USERS), "password.db", "shared-secret"}
    hashes = dict(line.split(":", 1) for line in auth["password.db"].splitlines())
    assert list(hashes) == list(TRINO_USERS)
    for user in TRINO_USERS:
        password = auth[f"password-{user}"]
        assert len(password) >= 32
        # Trino's password file: bcrypt marked $2y$, cost >= 8 (the same hash Python writes as $2b$).
        assert re.fullmatch(r"\$2y\$1[0-9]\$.{53}", hashes[user])
        assert bcrypt.checkpw(password.encode(), hashes[user].replace("$2y$", "$2b$", 1).encode())
    assert len(auth["shared-secret"]) >= 64
    assert _named(resources, "Secret", AUTH)["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_no_trino_credential_appears_in_a_configmap_values_env_or_image(render, files):
    _, resources = render(files)
    secrets = [v for s in (AUTH, TLS) for k, v in _decoded(_named(resources, "Secret", s)).items() if k != "ca.crt"]
    secrets += [line.split(":", 1)[1] for line in _decoded(_named(resources, "Secret", AUTH))["password.db"].split()]
    outside = yaml.safe_dump_all([r for r in resources if r["kind"] != "Secret"])
    values = "".join(p.read_text() for p in CHART.rglob("values*.yaml"))
    images = "".join(p.read_text() for p in (REPO / "images").rglob("*") if p.is_file() and p.stat().st_size < 1e6)
    for secret in secrets:
        for line in secret.splitlines():
            if len(line) >= 16 and "-----" not in line:
                assert line not in outside and line not in values and line not in images


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_the_coordinator_serves_https_with_password_authentication_and_the_rules(render, files):
    _, resources = render(files)
    if not any(r["metadata"]["name"] == "questline-trino-coordinator" for r in resources):
        pytest.skip("this scenario has no Trino (trino.enabled=false)")
    config = _named(resources, "ConfigMap", "questline-trino-coordinator")["data"]
    properties = dict(
        line.split("=", 1) for line in config["config.properties"].splitlines() if "=" in line and line[0] != "#"
    )
    assert properties["http-server.https.enabled"] == "true"
    assert properties["http-server.authentication.type"] == "PASSWORD"
    assert properties["internal-communication.shared-secret"] == "${ENV:TRINO_SHARED_SECRET}"
    assert "file.password-file=/etc/trino-auth/password.db" in config["password-authenticator.properties"]
    rules = json.loads(config["rules.json"])
    assert rules == _stack_rules(readable=DATABASE, writable=DATABASE)
    spec, trino = _container(resources, "Deployment", "questline-trino-coordinator")
    env = {e["name"]: e for e in trino["env"]}
    assert env["TRINO_SHARED_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": AUTH, "key": "shared-secret"}
    volumes = {v["name"]: v for v in spec["volumes"]}
    # Trino gets the hashes, never the users' passwords.
    assert volumes["auth"]["secret"]["items"] == [{"key": "password.db", "path": "password.db"}]
    assert trino["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    service = _named(resources, "Service", "questline-trino")
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == {"https": 8443, "http": 8080}


def _stack_rules(readable: str, writable: str) -> dict:
    """The local stack's rules (one definition in Python), for comparison."""
    from questline_stack.components.trino_auth import access_rules

    return access_rules(TRINO_CATALOG, readable=readable, writable=writable)


@pytest.mark.parametrize(
    ("kind", "name", "user"),
    [
        ("Deployment", "questline-api", "dashboard"),
        ("Deployment", "questline-spark-stream", TRINO_PIPELINE_USER),
        ("CronJob", "questline-spark-batch", TRINO_PIPELINE_USER),
        ("Job", "questline-spark-tables", TRINO_PIPELINE_USER),
    ],
)
def test_each_client_logs_in_over_https_as_its_own_user_with_only_its_password_mounted(render, kind, name, user):
    _, resources = render(SCENARIOS["kind"])
    spec, container = _container(resources, kind, name)
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["QUESTLINE_TRINO_URL"] == "https://questline-trino:8443"
    assert env["QUESTLINE_TRINO_USER"] == user
    (volume,) = [v for v in spec["volumes"] if v["name"] == "trino-login"]
    sources = volume["projected"]["sources"]
    assert sources[0]["secret"] == {"name": AUTH, "items": [{"key": f"password-{user}", "path": "password"}]}
    assert sources[1]["secret"] == {"name": TLS, "items": [{"key": "ca.crt", "path": "ca.crt"}]}
    mount = next(m for m in container["volumeMounts"] if m["name"] == "trino-login")["mountPath"]
    assert env["QUESTLINE_TRINO_PASSWORD_FILE"] == f"{mount}/password"
    assert env["QUESTLINE_TRINO_CA_FILE"] == f"{mount}/ca.crt"


def test_the_certificate_chains_to_the_ca_for_the_service_names(render, tmp_path):
    _, resources = render(())
    tls = _decoded(_named(resources, "Secret", TLS))
    (tmp_path / "ca.crt").write_text(tls["ca.crt"])
    (tmp_path / "server.pem").write_text(tls["server.pem"])
    verified = subprocess.run(
        ["openssl", "verify", "-x509_strict", "-CAfile", tmp_path / "ca.crt", tmp_path / "server.pem"],
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stderr
    text = subprocess.run(
        ["openssl", "x509", "-noout", "-text", "-in", tmp_path / "server.pem"], capture_output=True, text=True
    ).stdout
    for name in ("DNS:questline-trino", "DNS:questline-trino.questline.svc.cluster.local", "IP Address:127.0.0.1"):
        assert name in text
    assert "PRIVATE KEY" in tls["server.pem"] and "PRIVATE KEY" not in tls["ca.crt"]


def test_existing_secrets_replace_the_generated_ones(render):
    _, resources = render(
        (), ("global.trinoAuth.existingSecret=my-trino-auth", "global.trinoAuth.existingTlsSecret=my-trino-tls")
    )
    assert not [r for r in resources if r["kind"] == "Secret" and r["metadata"]["name"] in (AUTH, TLS)]
    spec, _ = _container(resources, "Deployment", "questline-api")
    (volume,) = [v for v in spec["volumes"] if v["name"] == "trino-login"]
    assert [s["secret"]["name"] for s in volume["projected"]["sources"]] == ["my-trino-auth", "my-trino-tls"]


def test_a_second_render_generates_other_passwords(render):
    def password(sets):
        _, resources = render((), sets)
        return _named(resources, "Secret", AUTH)["data"]["password-analyst"]

    assert password(()) != password(("api.replicaCount=1",))
