"""The stack on the one-node cluster for real (marker `cluster`, `make test-cluster`): the node is
brought up if needed (`questline-node up`), `skaffold run -p node` builds every image with buildah,
pushes it to the node's registry and deploys the chart, then every pod is Ready, `helm test` passes,
the smoke posts through the Ingress and finds exactly its events in Trino, and a simulator run through
the Ingress is accounted for: N acknowledged, N in tables, 0 missing, 0 duplicated.

Skips, saying why, when questline-node or questline-images is not installed (the node and images
work streams provide them). Long: a cold run builds seven images and starts the whole stack.
QUESTLINE_CLUSTER_REUSE=1 tests the release already deployed (no skaffold run).
Settings: questline_kind.settings (QUESTLINE_NODE_CONTEXT, QUESTLINE_NODE_REGISTRY,
QUESTLINE_NODE_INGRESS_URL, QUESTLINE_CLUSTER_ACCOUNTING_SECONDS, QUESTLINE_SMOKE_TIMEOUT).
"""

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from kubernetes import client

from questline_analytics import accounting
from questline_kind import cli, kube, smoke, tools
from questline_kind import settings as kind_settings
from questline_loadgen.settings import default_artifacts_dir

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[2]
INGRESS_HOST = "questline.localtest.me"  # values-kind.yaml api.ingress.host
RELEASE = NAMESPACE = "questline"


def _installed(name: str) -> str | None:
    venv = REPO / ".venv" / "bin" / name
    return str(venv) if os.access(venv, os.X_OK) else shutil.which(name)


def _log_dir() -> Path:
    path = default_artifacts_dir(os.environ) / "cluster" / time.strftime("%Y%m%dT%H%M%S")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _run_logged(argv: list[str], log: Path, env: dict[str, str], what: str) -> float:
    """Run argv with its output in log; fail naming the log and its tail. Returns the seconds it took."""
    print(f"[cluster] {what}: {' '.join(argv)} (log: {log})", flush=True)
    started = time.monotonic()
    with open(log, "w") as out:
        result = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    took = time.monotonic() - started
    if result.returncode != 0:
        tail = "".join(log.read_text().splitlines(keepends=True)[-40:])
        pytest.fail(f"{what} failed (exit {result.returncode}, {took:.0f}s; log {log}):\n{tail}", pytrace=False)
    print(f"[cluster] {what}: done in {took:.0f}s", flush=True)
    return took


def _env_of(node_cli: str) -> dict[str, str]:
    """The environment the node's clients need (KUBECONFIG...), if `questline-node env` prints it."""
    env = dict(os.environ)
    result = subprocess.run([node_cli, "env"], capture_output=True, text=True)
    if result.returncode == 0:
        for line in result.stdout.splitlines():
            line = line.strip().removeprefix("export ").strip()
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                env[key] = value.strip("'\"")
    return env


@dataclasses.dataclass
class Deployed:
    settings: kind_settings.Settings
    env: dict[str, str]
    logs: Path
    helm: str
    deploy_seconds: float


@pytest.fixture(scope="module")
def deployed() -> Deployed:
    node_cli, images_cli = _installed("questline-node"), _installed("questline-images")
    missing = [n for n, path in (("questline-node", node_cli), ("questline-images", images_cli)) if not path]
    if missing:
        pytest.skip(
            f"{' and '.join(missing)} not installed: the one-node cluster and the image builds are not on this branch"
        )
    logs = _log_dir()
    _run_logged([node_cli, "up"], logs / "node-up.log", dict(os.environ), "questline-node up")
    env = _env_of(node_cli)
    for key in ("KUBECONFIG",):
        if key in env:
            os.environ[key] = env[key]  # the Kubernetes client of kube.api_client reads it
    base = kind_settings.load()
    settings = dataclasses.replace(
        base,
        kube_context=base.node_context,
        ingress_url=base.node_ingress_url,
        ingress_host=INGRESS_HOST,
    )
    skaffold = tools.ensure(settings, "skaffold")
    helm = tools.ensure(settings, "helm")
    env = cli.skaffold_env(settings, env)  # update checks are off in skaffold_argv's --config
    if os.environ.get("QUESTLINE_CLUSTER_REUSE") == "1":
        # Against the release already deployed (while working on a test): no skaffold run.
        print("[cluster] QUESTLINE_CLUSTER_REUSE=1: using the release already deployed", flush=True)
        return Deployed(settings, env, logs, helm, 0.0)
    argv = cli.skaffold_argv(settings, skaffold, "run", "node", port_forward=False)
    took = _run_logged(argv, logs / "skaffold-run.log", env, "skaffold run -p node")
    return Deployed(settings, env, logs, helm, took)


def _trino_url(d: Deployed) -> str:
    """Trino's HTTPS port through its Service's cluster IP (the node's kube-proxy routes it from this host)."""
    if d.settings.trino_url:
        return d.settings.trino_url
    api = kube.api_client(d.settings)
    service = client.CoreV1Api(api).read_namespaced_service(d.settings.trino_service, NAMESPACE)
    port = next(p.port for p in service.spec.ports if p.name == "https")
    return f"https://{service.spec.cluster_ip}:{port}"


def _trino(d: Deployed):
    """Trino at its Service as the smoke user, on the catalog and database the release gave the API.
    The certificate names the Service, not its cluster IP: checked against the Service's name."""
    import requests.adapters

    api = kube.api_client(d.settings)
    names = smoke.deployed_names(api, NAMESPACE)
    login = smoke.deployed_login(api, d.settings)

    class ServiceName(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, assert_hostname=d.settings.trino_service, **kwargs)

    session = requests.Session()
    session.verify = str(login.ca_file)
    session.mount("https://", ServiceName())
    return login.connect(_trino_url(d), catalog=names.catalog, schema=names.database, http_session=session)


def test_every_pod_becomes_ready(deployed):
    api = kube.api_client(deployed.settings)
    kube.wait_until_ready(api, NAMESPACE, timeout=deployed.settings.timeout)
    pods = client.CoreV1Api(api).list_namespaced_pod(NAMESPACE).items
    not_running = [
        p.metadata.name
        for p in pods
        if p.status.phase not in ("Running", "Succeeded") and not p.metadata.name.endswith("-test")
    ]
    assert not not_running, f"pods not running: {not_running}"
    print(f"[cluster] {len(pods)} pods; skaffold run took {deployed.deploy_seconds:.0f}s", flush=True)


def test_helm_test_passes_for_every_component(deployed):
    argv = [
        deployed.helm, "test", RELEASE, "--namespace", NAMESPACE,
        "--kube-context", deployed.settings.kube_context, "--timeout", "20m", "--logs",
    ]  # fmt: skip
    _run_logged(argv, deployed.logs / "helm-test.log", deployed.env, "helm test")
    log = (deployed.logs / "helm-test.log").read_text()
    for pod in (
        "api-test",
        "api-kafka-test",
        "kafka-test",
        "hdfs-test",
        "hive-metastore-test",
        "trino-test",
        "spark-test",
    ):
        assert f"questline-{pod}" in log, (
            f"helm test did not run questline-{pod} (log {deployed.logs / 'helm-test.log'})"
        )


def test_smoke_over_the_ingress_finds_exactly_its_events_in_trino(deployed):
    # Trino through smoke's own port-forward, as `make smoke` reaches it: the certificate names
    # localhost and the Service, not the Service's cluster IP.
    result = smoke.run(deployed.settings)
    assert result.counts == smoke.expected_counts(result.player_id)


def test_a_simulator_run_through_the_ingress_is_accounted_for_exactly(deployed):
    loadgen = _installed("questline-loadgen")
    assert loadgen, "questline-loadgen not installed (make venv)"
    truth_path = deployed.logs / "ground-truth.json"
    seconds = deployed.settings.cluster_accounting_seconds
    argv = [
        loadgen, "--api-url", deployed.settings.ingress_url,
        # The Ingress routes by host: one Host header for every player, not each player's own.
        "--no-send-player-host", "--host-header", INGRESS_HOST,
        "--duration", f"{seconds:g}", "--rate", "50", "--players", "100",
        "--no-progress", "--ground-truth", str(truth_path),
    ]  # fmt: skip
    _run_logged(argv, deployed.logs / "loadgen.log", deployed.env, f"simulator, {seconds:g}s through the Ingress")
    truth = json.loads(truth_path.read_text())
    with contextlib.closing(_trino(deployed)) as conn:
        result = accounting.wait_until_caught_up(conn, truth, timeout=deployed.settings.timeout)
    print(f"[cluster] accounting: {result.line()}", flush=True)
    assert result.acknowledged > 0
    assert result.ok, "; ".join(result.problems())
    assert result.in_tables >= result.acknowledged


# The pods the fault run deletes, one at a time, by their component label; each is recreated by its
# controller (Deployment or StatefulSet) and must become Ready again by itself.
FAULTS = (
    ("streaming driver", "spark-stream"),
    ("Kafka broker", "kafka"),
    ("metastore", "hive-metastore"),
    ("Trino coordinator", "trino-coordinator"),
)


def _pods_of(core: client.CoreV1Api, component: str) -> list[client.V1Pod]:
    selector = f"app.kubernetes.io/component={component}"
    return [
        p
        for p in core.list_namespaced_pod(NAMESPACE, label_selector=selector).items
        if not p.metadata.deletion_timestamp
    ]


def _ready(pod: client.V1Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def _delete_and_wait(core: client.CoreV1Api, component: str, timeout: float) -> tuple[str, float]:
    """Delete the component's pod; return the new pod's name and the seconds until it was Ready."""
    old = _pods_of(core, component)
    assert old, f"no pod with app.kubernetes.io/component={component} to delete"
    old_names = {p.metadata.name for p in old}
    old_uids = {p.metadata.uid for p in old}
    started = time.monotonic()
    for pod in old:
        core.delete_namespaced_pod(pod.metadata.name, NAMESPACE)
    while time.monotonic() - started < timeout:
        new = [p for p in _pods_of(core, component) if p.metadata.uid not in old_uids]
        if new and all(_ready(p) for p in new):
            return new[0].metadata.name, time.monotonic() - started
        time.sleep(2)
    pytest.fail(f"{component}: no Ready pod {timeout:.0f}s after deleting {sorted(old_names)}", pytrace=False)


def test_deleting_each_stateful_pod_under_load_loses_and_duplicates_nothing(deployed):
    """The simulator runs through the Ingress while the streaming driver, the Kafka broker, the
    metastore and the Trino coordinator pods are deleted one at a time; each comes back by itself
    and the run is accounted for exactly. Prints the fault table."""
    loadgen = _installed("questline-loadgen")
    assert loadgen, "questline-loadgen not installed (make venv)"
    core = client.CoreV1Api(kube.api_client(deployed.settings))
    truth_path = deployed.logs / "fault-ground-truth.json"
    # Long enough to span every fault; the simulator retries what the API refuses while Kafka is away.
    seconds = deployed.settings.cluster_accounting_seconds * 3
    argv = [
        loadgen, "--api-url", deployed.settings.ingress_url,
        "--no-send-player-host", "--host-header", INGRESS_HOST,
        "--duration", f"{seconds:g}", "--rate", "20", "--players", "50",
        "--max-retries", "50", "--no-progress", "--ground-truth", str(truth_path),
    ]  # fmt: skip
    log = deployed.logs / "fault-loadgen.log"
    print(f"[cluster] fault run: simulator for {seconds:g}s (log {log})", flush=True)
    rows = []
    with open(log, "w") as out:
        sim = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=deployed.env, cwd=REPO)
        try:
            time.sleep(20)
            for what, component in FAULTS:
                assert sim.poll() is None, f"the simulator ended before the {what} fault (log {log})"
                name, took = _delete_and_wait(core, component, deployed.settings.timeout)
                rows.append((what, name, took))
                print(f"[cluster] fault: deleted the {what} pod; {name} Ready after {took:.0f}s", flush=True)
                time.sleep(10)
            rc = sim.wait(timeout=seconds + 600)
        finally:
            if sim.poll() is None:
                sim.terminate()
                sim.wait(timeout=30)
    truth = json.loads(truth_path.read_text())
    # Every request is retried until acknowledged (a pod away answers 503, which is retried): a
    # refusal means a client would have lost the event (the first real run's 404s from the ingress).
    statuses = sorted({r["status"] for r in truth["rejections"]})
    assert rc == 0, f"the simulator saw events refused (exit {rc}, statuses {statuses}; log {log})"
    with contextlib.closing(_trino(deployed)) as conn:
        result = accounting.wait_until_caught_up(conn, truth, timeout=deployed.settings.timeout)
    table = [f"{'fault':<20} {'new pod':<48} {'Ready after':>12}"]
    table += [f"{what:<20} {name:<48} {took:>11.0f}s" for what, name, took in rows]
    table.append(f"accounting: {result.line()}")
    print("[cluster] fault table\n" + "\n".join(table), flush=True)
    (deployed.logs / "fault-table.txt").write_text("\n".join(table) + "\n")
    assert result.acknowledged > 0
    assert result.ok, "; ".join(result.problems())


# Lifecycle: upgrade, interrupted dev, uninstall and install again. Runs after the traffic tests, so
# the tables hold their events; every step keeps the release deployed for whatever runs next.


def _workload_pods(core: client.CoreV1Api) -> dict[str, set[str]]:
    """Pod uids by component, of the pods a Deployment or StatefulSet owns (not Jobs, helm test
    pods or Spark executors, which the driver owns)."""
    found: dict[str, set[str]] = {}
    for pod in core.list_namespaced_pod(NAMESPACE).items:
        owners = {o.kind for o in pod.metadata.owner_references or []}
        if pod.metadata.deletion_timestamp or not owners & {"ReplicaSet", "StatefulSet"}:
            continue
        component = (pod.metadata.labels or {}).get("app.kubernetes.io/component", pod.metadata.name)
        found.setdefault(component, set()).add(pod.metadata.uid)
    return found


def _wait_settled(d: Deployed, core: client.CoreV1Api) -> dict[str, set[str]]:
    """Every workload Ready and no pod terminating: the pods a rollout leaves."""
    kube.wait_until_ready(kube.api_client(d.settings), NAMESPACE, timeout=d.settings.timeout)
    deadline = time.monotonic() + d.settings.timeout
    while any(p.metadata.deletion_timestamp for p in core.list_namespaced_pod(NAMESPACE).items):
        assert time.monotonic() < deadline, "pods still terminating after the rollout"
        time.sleep(2)
    return _workload_pods(core)


def _count_events(d: Deployed) -> int:
    with contextlib.closing(_trino(d)) as conn:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM events")
        return cur.fetchone()[0]


def test_helm_upgrade_of_one_value_rolls_only_that_component(deployed):
    core = client.CoreV1Api(kube.api_client(deployed.settings))
    chart = str(REPO / "charts" / "questline")
    # The baseline is a helm upgrade with the same values: skaffold labels every pod template with
    # its run's id (skaffold.dev/run-id, which its status check selects by), so the first plain
    # helm upgrade after a skaffold deploy rolls every pod once (docs/kubernetes.md).
    argv = [deployed.helm, "get", "values", RELEASE, "--all", "--output", "json", "--namespace", NAMESPACE,
            "--kube-context", deployed.settings.kube_context]  # fmt: skip
    values = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True, env=deployed.env).stdout)
    current = values["api"]["logLevel"]
    changed = "DEBUG" if current != "DEBUG" else "INFO"
    before = None
    for level in (None, changed, current):  # same values, then one API value changed, then back
        argv = [
            deployed.helm, "upgrade", RELEASE, chart, "--namespace", NAMESPACE,
            "--kube-context", deployed.settings.kube_context, "--reuse-values", "--wait", "--timeout", "15m",
        ]  # fmt: skip
        argv += ["--set", f"api.logLevel={level}"] if level else []
        log = deployed.logs / f"helm-upgrade-{level or 'same'}.log"
        _run_logged(argv, log, deployed.env, f"helm upgrade api.logLevel={level or '(unchanged)'}")
        after = _wait_settled(deployed, core)
        if before is None:
            before = after
            continue
        rolled = sorted(c for c in before.keys() | after.keys() if before.get(c) != after.get(c))
        print(f"[cluster] upgrade api.logLevel={level}: rolled {rolled}", flush=True)
        assert rolled == ["api"], f"api.logLevel={level} rolled {rolled}, expected only the API"
        before = after


def test_interrupted_skaffold_dev_then_skaffold_run_keeps_the_data(deployed):
    """Ctrl-C on `skaffold dev` (which then uninstalls its releases), then `skaffold run`: the
    volumes survive the uninstall (StatefulSet claims are never Helm's), the tables keep every event
    exactly once, and the stream resumes from its checkpoint: new traffic lands."""
    core = client.CoreV1Api(kube.api_client(deployed.settings))
    events_before = _count_events(deployed)
    claims_before = {c.metadata.name for c in core.list_namespaced_persistent_volume_claim(NAMESPACE).items}
    skaffold = tools.ensure(deployed.settings, "skaffold")
    argv = cli.skaffold_argv(deployed.settings, skaffold, "dev", "node", port_forward=False)
    log = deployed.logs / "skaffold-dev.log"
    print(f"[cluster] skaffold dev, interrupted once deployed: {' '.join(argv)} (log {log})", flush=True)
    with open(log, "w") as out:
        dev = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=deployed.env, cwd=REPO)
        try:
            deadline = time.monotonic() + deployed.settings.timeout
            while "Watching for changes" not in log.read_text():
                assert dev.poll() is None, f"skaffold dev ended (exit {dev.returncode}; log {log})"
                assert time.monotonic() < deadline, f"skaffold dev never got to watching (log {log})"
                time.sleep(2)
            dev.send_signal(signal.SIGINT)  # what Ctrl-C sends
            rc = dev.wait(timeout=600)
        finally:
            if dev.poll() is None:
                dev.kill()
    print(f"[cluster] skaffold dev exited {rc} after Ctrl-C", flush=True)
    claims_after = {c.metadata.name for c in core.list_namespaced_persistent_volume_claim(NAMESPACE).items}
    assert claims_before <= claims_after, f"claims lost with the release: {sorted(claims_before - claims_after)}"
    print(f"[cluster] kept after dev's cleanup: {len(claims_after)} claims {sorted(claims_after)}", flush=True)
    argv = cli.skaffold_argv(deployed.settings, skaffold, "run", "node", port_forward=False)
    took = _run_logged(argv, deployed.logs / "skaffold-run-again.log", deployed.env, "skaffold run after dev")
    _wait_settled(deployed, core)
    events_after = _count_events(deployed)
    print(f"[cluster] events before {events_before}, after reinstall {events_after} ({took:.0f}s)", flush=True)
    assert events_after == events_before, "the tables changed across uninstall and install"
    # Trino through smoke's own port-forward, as `make smoke` reaches it: the certificate names
    # localhost and the Service, not the Service's cluster IP.
    result = smoke.run(deployed.settings)  # the stream resumed: new events land exactly once
    assert result.counts == smoke.expected_counts(result.player_id)
