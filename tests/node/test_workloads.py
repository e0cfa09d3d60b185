"""Real pods on the one-node cluster: scheduling, Services through kube-proxy and CoreDNS,
storage, ingress, resource limits, probes, Jobs, controllers and RBAC (docs/node.md)."""

import ipaddress
import subprocess
import urllib.error
import urllib.request

import pytest
from nodelib import Kube, container_status, node_cli, pod, pod_phase, ready_pods, wait_for, web_deployment

from questline_devkit.versions import versions
from questline_node.settings import POD_CIDR, SERVICE_CIDR

pytestmark = pytest.mark.node


def test_node_is_ready_at_the_pinned_version_with_healthy_conditions(kube, node_settings):
    node = kube.get("node", node_settings.node_name)
    info = node["status"]["nodeInfo"]
    assert info["kubeletVersion"] == f"v{versions()['kubernetes_build']['version']}"
    assert info["kubeProxyVersion"] in ("", info["kubeletVersion"])  # deprecated field, empty from 1.31
    assert info["containerRuntimeVersion"] == f"containerd://{versions()['node_runtime']['containerd']}"
    conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}
    assert conditions == {"Ready": "True", "MemoryPressure": "False", "DiskPressure": "False", "PIDPressure": "False"}
    addresses = {a["type"]: a["address"] for a in node["status"]["addresses"]}
    assert addresses["InternalIP"] == node_settings.node_ip
    assert node["spec"]["podCIDR"] == POD_CIDR
    # Every component reports the same version as the kubelet.
    version = kube.run("version", "-o", "json")
    assert f'"gitVersion": "{info["kubeletVersion"]}"' in version


def test_a_service_is_reached_by_its_dns_name_through_kube_proxy(kube, namespace, test_image):
    kube.apply(web_deployment("web", test_image, replicas=2), namespace)
    backends = wait_for(lambda: len(pods := ready_pods(kube, namespace, "app=web")) == 2 and pods,
                        what="2 ready replicas of web", timeout=180)  # fmt: skip
    for backend in backends:
        assert ipaddress.ip_address(backend["status"]["podIP"]) in ipaddress.ip_network(POD_CIDR)
    service = kube.get("service", "web", namespace)
    assert ipaddress.ip_address(service["spec"]["clusterIP"]) in ipaddress.ip_network(SERVICE_CIDR)
    url = f"http://web.{namespace}.svc.cluster.local/hello"
    # 24 requests from a second pod: by name (CoreDNS), to the ClusterIP (kube-proxy's DNAT).
    script = f"for i in $(seq 24); do node-probe get {url} 30 || exit 1; done"
    kube.apply(pod("client", test_image, script), namespace)
    wait_for(lambda: pod_phase(kube, "client", namespace) in ("Succeeded", "Failed"), what="client pod to finish")
    out = kube.logs("client", namespace)
    assert pod_phase(kube, "client", namespace) == "Succeeded", out
    answered = {line.split()[0] for line in out.splitlines() if line.endswith(" /hello")}
    # Both replicas answered: the Service balanced over its two endpoints.
    assert answered == {b["metadata"]["name"] for b in backends}, out


def test_a_claim_binds_and_its_data_survives_the_pod(kube, namespace, test_image, node_settings):
    kube.apply(
        """
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
""",
        namespace,
    )
    volume = """  volumes:
    - name: data
      persistentVolumeClaim: {claimName: data}"""
    mount = """      volumeMounts:
        - {name: data, mountPath: /data}"""
    writer = pod("writer", test_image, f"echo written-by-writer-{namespace} > /data/proof", extra=mount + "\n" + volume)
    kube.apply(writer, namespace)
    wait_for(lambda: pod_phase(kube, "writer", namespace) == "Succeeded", what="writer pod to succeed", timeout=180)
    claim = kube.get("pvc", "data", namespace)
    assert claim["status"]["phase"] == "Bound"
    assert claim["spec"]["storageClassName"] == "standard"
    pv = kube.get("pv", claim["spec"]["volumeName"])
    assert pv["spec"]["hostPath"]["path"].startswith(str(node_settings.local_path_dir))
    kube.run("-n", namespace, "delete", "pod", "writer")
    reader = pod("reader", test_image, "cat /data/proof", extra=mount + "\n" + volume)
    kube.apply(reader, namespace)
    wait_for(lambda: pod_phase(kube, "reader", namespace) == "Succeeded", what="reader pod to succeed", timeout=120)
    assert kube.logs("reader", namespace).strip() == f"written-by-writer-{namespace}"


def test_an_ingress_routes_a_request_from_the_host_to_a_pod(kube, namespace, test_image, node_settings):
    kube.apply(web_deployment("site", test_image, replicas=1), namespace)
    host = f"{namespace}.questline.test"
    kube.apply(
        f"""
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: site
spec:
  rules:
    - host: {host}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: {{name: site, port: {{number: 80}}}}
""",
        namespace,
    )
    backend = wait_for(lambda: ready_pods(kube, namespace, "app=site"), what="site pod ready", timeout=180)[0]

    def fetch() -> str:
        # No public DNS here: the host name travels in the Host header only.
        url = f"http://127.0.0.1:{node_settings.http_port}/from-host"
        request = urllib.request.Request(url, headers={"Host": host})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.read().decode()
        except urllib.error.HTTPError as error:  # 404 until Traefik has seen the Ingress
            raise AssertionError(f"HTTP {error.code}") from None

    body = wait_for(fetch, what=f"Traefik to route {host}", timeout=90)
    assert body.strip() == f"{backend['metadata']['name']} /from-host"
    # The ingress class is the node's default: the Ingress named none and still got one.
    assert kube.get("ingress", "site", namespace)["spec"].get("ingressClassName") in (None, "traefik")


def test_a_pod_over_its_memory_limit_is_oom_killed(kube, namespace, test_image):
    limits = """      resources:
        limits: {memory: 48Mi}
        requests: {memory: 48Mi}"""
    kube.apply(pod("hog", test_image, "exec node-probe hog 256", extra=limits), namespace)
    state = wait_for(lambda: container_status(kube, "hog", namespace).get("state", {}).get("terminated"),
                     what="the hog container to be terminated", timeout=120)  # fmt: skip
    assert state["reason"] == "OOMKilled", state
    assert state["exitCode"] == 137
    assert "allocated MiB: 1" in kube.logs("hog", namespace)


def test_a_failing_liveness_probe_restarts_the_container(kube, namespace, test_image):
    probe = """      livenessProbe:
        exec: {command: ["cat", "/tmp/healthy"]}
        periodSeconds: 1
        failureThreshold: 2"""
    script = "touch /tmp/healthy; sleep 4; rm /tmp/healthy; sleep 3600"
    kube.apply(pod("flaky", test_image, script, extra=probe, restart="Always"), namespace)
    status = wait_for(lambda: (s := container_status(kube, "flaky", namespace)).get("restartCount", 0) >= 1 and s,
                      what="a restart of the flaky container", timeout=120)  # fmt: skip
    assert status["lastState"]["terminated"]["reason"] in ("Error", "Completed")
    events = kube.run("-n", namespace, "get", "events", "--field-selector=involvedObject.name=flaky")
    assert "Liveness probe failed" in events


def test_a_job_runs_to_completion(kube, namespace, test_image):
    kube.apply(
        f"""
apiVersion: batch/v1
kind: Job
metadata:
  name: count
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: count
          image: {test_image}
          command: ["/bin/sh", "-c", "seq 1 5 | tr '\\\\n' ' '; echo done"]
""",
        namespace,
    )
    wait_for(lambda: kube.get("job", "count", namespace)["status"].get("succeeded") == 1, what="Job count to succeed")
    job = kube.get("job", "count", namespace)
    assert any(c["type"] == "Complete" and c["status"] == "True" for c in job["status"]["conditions"])
    # Logs travel API server -> kubelet (its serving certificate) -> containerd.
    assert kube.logs("job/count", namespace).strip() == "1 2 3 4 5 done"


def test_a_pod_deleted_by_hand_is_recreated_by_its_controller(kube, namespace, test_image):
    kube.apply(web_deployment("keeper", test_image, replicas=1), namespace)
    first = wait_for(lambda: ready_pods(kube, namespace, "app=keeper"), what="keeper pod ready", timeout=180)[0]
    first_uid = first["metadata"]["uid"]
    kube.run("-n", namespace, "delete", "pod", first["metadata"]["name"], "--wait=false")
    replacement = wait_for(
        lambda: [p for p in ready_pods(kube, namespace, "app=keeper") if p["metadata"]["uid"] != first_uid],
        what="a replacement keeper pod",
        timeout=120,
    )[0]
    assert replacement["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"


def test_a_service_account_with_a_role_creates_pods_but_reads_no_secrets_elsewhere(
    kube, namespace, test_image, node_settings
):
    kube.apply(
        """
apiVersion: v1
kind: ServiceAccount
metadata:
  name: driver
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: executor-manager
rules:
  - apiGroups: [""]
    resources: ["pods"]
    verbs: ["create", "get", "list", "watch", "delete"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: driver-executor-manager
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: executor-manager}
subjects:
  - {kind: ServiceAccount, name: driver}
""",
        namespace,
    )
    token = kube.run("-n", namespace, "create", "token", "driver", "--duration=10m").strip()
    driver = Kube(node_settings, token=token)
    assert driver.run("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}") == (
        f"system:serviceaccount:{namespace}:driver"
    )
    driver.apply(pod("executor-1", test_image, "echo executor ran"), namespace)
    wait_for(lambda: pod_phase(kube, "executor-1", namespace) == "Succeeded", what="the executor pod to run")
    denied = driver.run("-n", "kube-system", "get", "secrets", check=False)
    assert "Forbidden" in denied and 'cannot list resource "secrets"' in denied, denied
    denied_here = driver.run("-n", namespace, "get", "secrets", check=False)
    assert "Forbidden" in denied_here, denied_here
    # Nor may it create pods in another namespace.
    other = driver.run("-n", "kube-system", "auth", "can-i", "create", "pods", check=False)
    assert other.strip().startswith("no")


def test_pod_traffic_cannot_leave_the_machine(node_settings):
    """The node's FORWARD chain (docs/node.md) is in place and first; and nothing masquerades
    pod traffic: the only MASQUERADE rules are kube-proxy's for marked Service traffic."""
    s = node_settings
    chain_rules = subprocess.run(["iptables", "-S", s.fw_chain], capture_output=True, text=True, check=True).stdout
    assert f"-A {s.fw_chain} -s {s.pod_cidr} ! -d {s.allowed_range}" in chain_rules and "-j DROP" in chain_rules
    forward = subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True, text=True, check=True).stdout
    rules = [line for line in forward.splitlines() if line.startswith("-A ")]
    ours = rules.index(f"-A FORWARD -j {s.fw_chain}")
    # Before kube-proxy's jumps (KUBE-FORWARD accepts Service traffic) and any ACCEPT.
    assert not [rule for rule in rules[:ours] if "KUBE-" in rule or rule.endswith("-j ACCEPT")], forward
    nat = subprocess.run(["iptables", "-t", "nat", "-S"], capture_output=True, text=True, check=True).stdout
    masquerades = [line for line in nat.splitlines() if "MASQUERADE" in line]
    assert masquerades and all("KUBE-" in line.split()[1] or "CNI-HOSTPORT" in line for line in masquerades), nat


def test_node_load_pushes_an_archive_that_pods_then_pull_by_its_plain_name(kube, namespace, node_settings, tmp_path):
    """`make node-load IMAGE=<name>` pushes $QUESTLINE_CACHE/images/<name>.oci.tar; a pod naming
    the image as the charts do (`questline/<name>:<tag>`, i.e. docker.io) pulls it from the
    node's registry. Here with an archive of our own (the test image under another name)."""
    import uuid

    from questline_node import images

    built = images.build_image(node_settings, images.test_image(node_settings))
    # An archive under a name the registry has never seen, so only `load` can have put it there.
    ref = f"questline/node-load-probe:{uuid.uuid4().hex[:12]}"
    archive = tmp_path / "node-load-probe.oci.tar"
    subprocess.run(["skopeo", "copy", "--quiet", f"oci-archive:{built}", f"oci-archive:{archive}:{ref}"], check=True)
    assert not images.in_registry(node_settings, *ref.split(":"))
    result = node_cli("load", str(archive))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{node_settings.registry}/{ref}"
    kube.apply(pod("plain-name", ref, "echo pulled", extra="      imagePullPolicy: Always"), namespace)
    wait_for(lambda: pod_phase(kube, "plain-name", namespace) == "Succeeded", what="the plain-name pod to run")
    assert kube.logs("plain-name", namespace).strip() == "pulled"
    events = kube.run("-n", namespace, "get", "events", "--field-selector=involvedObject.name=plain-name")
    assert f'Successfully pulled image "{ref}"' in events, events
