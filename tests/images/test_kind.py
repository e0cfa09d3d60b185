"""The kind cluster config, its pinned node image, and how this machine's lack of Docker is detected."""

import pytest
import yaml
from imagelib import REPO

from questline_devkit.versions import versions
from questline_kind import cluster as cluster_module
from questline_kind import settings as kind_settings
from questline_kind import tools


@pytest.fixture(scope="module")
def cluster():
    return yaml.safe_load((REPO / "kind" / "cluster.yaml").read_text())


def test_the_cluster_is_named_as_the_kind_settings_expect(cluster):
    assert cluster["name"] == kind_settings.load().cluster_name
    assert cluster["apiVersion"] == "kind.x-k8s.io/v1alpha4"


def test_an_ingress_ready_node_maps_the_hosts_http_and_https_ports(cluster):
    node = next(n for n in cluster["nodes"] if n.get("labels", {}).get("ingress-ready") == "true")
    mapped = {(m["containerPort"], m["hostPort"], m.get("protocol", "TCP")) for m in node["extraPortMappings"]}
    assert {(80, 80, "TCP"), (443, 443, "TCP")} <= mapped


def test_the_node_image_is_the_one_the_pinned_kind_release_defaults_to():
    assert versions()["kind"]["node_image"] == tools.kind_default_node_image(kind_settings.load())


def test_the_node_image_runs_the_kubernetes_version_the_charts_target():
    if "kubernetes" not in versions():
        pytest.skip("versions.toml has no [kubernetes] table yet (the charts issue adds it)")
    tag = versions()["kind"]["node_image"].split(":")[1].split("@")[0]
    assert tag == "v" + versions()["kubernetes"]["version"]


def test_an_unreachable_docker_engine_is_reported_as_such(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    problem = tools.docker_engine_problem()
    assert problem is not None
    assert "not installed" in problem or "no Docker engine answers" in problem


def test_a_bad_timeout_setting_is_explained(monkeypatch):
    monkeypatch.setenv("QUESTLINE_SMOKE_TIMEOUT", "soon")
    with pytest.raises(kind_settings.SettingsError) as error:
        kind_settings.load()
    assert str(error.value) == "QUESTLINE_SMOKE_TIMEOUT='soon' is not a number (expected 1..86400 seconds)"


def test_a_bad_ingress_url_is_explained(monkeypatch):
    monkeypatch.setenv("QUESTLINE_INGRESS_URL", "questline.localtest.me")
    with pytest.raises(kind_settings.SettingsError) as error:
        kind_settings.load()
    assert str(error.value) == (
        "QUESTLINE_INGRESS_URL='questline.localtest.me' is not an http(s) URL (expected http://host[:port])"
    )


def _set_values(argv: list[str]) -> dict[str, str]:
    return dict(argv[i + 1].split("=", 1) for i, a in enumerate(argv) if a in ("--set", "--set-string"))


def test_traefik_is_installed_from_its_pinned_chart_as_the_class_the_kind_values_use(cluster):
    argv = cluster_module.traefik_install_argv("helm", kind_settings.load())
    assert argv[argv.index("--version") + 1] == versions()["kind"]["traefik_chart"]
    assert argv[argv.index("--repo") + 1] == "https://traefik.github.io/charts"
    values = _set_values(argv)
    kind_values = yaml.safe_load((REPO / "charts" / "questline" / "values-kind.yaml").read_text())
    assert values["ingressClass.name"] == kind_values["api"]["ingress"]["className"] == "traefik"
    # It binds the node ports that cluster.yaml maps to the host, on the node cluster.yaml labels.
    node = next(n for n in cluster["nodes"] if n.get("labels", {}).get("ingress-ready") == "true")
    host_ports = {m["containerPort"] for m in node["extraPortMappings"]}
    assert {int(values["ports.web.hostPort"]), int(values["ports.websecure.hostPort"])} == host_ports
    assert values["nodeSelector.ingress-ready"] == "true"
    assert argv[argv.index("--kube-context") + 1] == kind_settings.load().kind_context


def test_the_smoke_host_header_defaults_to_the_ingress_urls_host(monkeypatch):
    monkeypatch.delenv("QUESTLINE_INGRESS_HOST", raising=False)
    monkeypatch.setenv("QUESTLINE_INGRESS_URL", "http://questline.localtest.me")
    assert kind_settings.load().ingress_host == "questline.localtest.me"


def test_the_smoke_can_send_the_host_header_to_an_address(monkeypatch):
    # No DNS for the Ingress host (the one-node cluster here): connect to an address, name the host.
    monkeypatch.setenv("QUESTLINE_INGRESS_URL", "http://127.0.0.1:8088/")
    monkeypatch.setenv("QUESTLINE_INGRESS_HOST", "questline.localtest.me")
    settings = kind_settings.load()
    assert (settings.ingress_url, settings.ingress_host) == ("http://127.0.0.1:8088", "questline.localtest.me")


def test_a_bad_ingress_host_is_explained(monkeypatch):
    monkeypatch.setenv("QUESTLINE_INGRESS_HOST", "http://questline.localtest.me/")
    with pytest.raises(kind_settings.SettingsError, match=r"QUESTLINE_INGRESS_HOST=.* must be a bare host name"):
        kind_settings.load()


def test_the_smoke_context_is_kinds_unless_set(monkeypatch):
    monkeypatch.delenv("QUESTLINE_KUBE_CONTEXT", raising=False)
    assert kind_settings.load().kube_context == kind_settings.load().kind_context == "kind-questline"
    monkeypatch.setenv("QUESTLINE_KUBE_CONTEXT", "questline-node")
    assert kind_settings.load().kube_context == "questline-node"
    assert kind_settings.load().kind_context == "kind-questline"


def test_the_smoke_traffic_carries_the_host_header_to_the_address(monkeypatch):
    """A real HTTP server on loopback stands where the ingress controller would: it routes by Host
    like an Ingress rule (202 for questline.localtest.me, 404 otherwise)."""
    import http.server
    import threading

    from questline_kind import smoke

    seen = []

    class Route(http.server.BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            routed = self.headers["Host"] == "questline.localtest.me"
            if self.path == "/v1/dev/login" and routed:  # values-kind's dev login
                body = b'{"access_token": "t0ken", "token_type": "Bearer", "expires_in": 3600}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            seen.append((self.command, self.path, self.headers["Host"], self.headers["Authorization"]))
            self.send_response(202 if routed else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_DELETE = _answer

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Route)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("QUESTLINE_INGRESS_URL", f"http://127.0.0.1:{server.server_port}")
        monkeypatch.setenv("QUESTLINE_INGRESS_HOST", "questline.localtest.me")
        smoke.post_traffic(kind_settings.load(), "p1")
        assert len(seen) == len(smoke.actions("p1"))
        assert {host for _, _, host, _ in seen} == {"questline.localtest.me"}
        assert {credential for *_, credential in seen} == {"Bearer t0ken"}
        # Without the setting the Host is the address, which no Ingress rule matches.
        monkeypatch.delenv("QUESTLINE_INGRESS_HOST")
        with pytest.raises(smoke.SmokeFailure, match="answered 404"):
            smoke.post_traffic(kind_settings.load(), "p2")
    finally:
        server.shutdown()
        server.server_close()


def test_the_kubernetes_client_reads_a_kubeconfig_set_after_import(tmp_path, monkeypatch):
    """The cluster tests learn the node's KUBECONFIG only once the node is up, long after the client
    library was imported (and had read KUBECONFIG once); every client must still use that file."""
    from questline_kind import kube

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "late", "cluster": {"server": "https://127.0.0.1:16443"}}],
                "users": [{"name": "late", "user": {"token": "t"}}],
                "contexts": [{"name": "late-context", "context": {"cluster": "late", "user": "late"}}],
                "current-context": "late-context",
            }
        )
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    api = kube.api_client(kind_settings.load(), context="late-context")
    assert api.configuration.host == "https://127.0.0.1:16443"
