"""The API's signing keys: generated at install into a Secret (or an existing one referenced),
mounted as files, never written in values, ConfigMaps or env; production and kind choose safely."""

import base64

import pytest
import yaml
from chartlib import SCENARIOS, template

pytestmark = pytest.mark.charts

SECRET = "questline-api-auth"


def _api(resources):
    (deployment,) = [r for r in resources if r["kind"] == "Deployment" and r["metadata"]["name"] == "questline-api"]
    spec = deployment["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    return spec, {e["name"]: e.get("value") for e in container["env"]}


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_the_signing_keys_are_generated_random_and_appear_in_no_configmap_or_env(render, files):
    _, resources = render(files)
    (secret,) = [r for r in resources if r["kind"] == "Secret" and r["metadata"]["name"] == SECRET]
    keys = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert set(keys) == {"k1", "legacy-client-key"}
    assert len(keys["k1"]) >= 32 and len(keys["legacy-client-key"]) >= 16
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    outside = yaml.safe_dump_all([r for r in resources if r["kind"] != "Secret"])
    assert not [k for k, v in keys.items() if v in outside]
    spec, env = _api(resources)
    assert env["QUESTLINE_API_AUTH"] == "true"
    assert env["QUESTLINE_API_AUTH_KEYS_DIR"] == "/etc/questline/auth/keys"
    (volume,) = [v for v in spec["volumes"] if v["name"] == "auth-keys"]
    assert volume["secret"] == {"secretName": SECRET, "defaultMode": 0o440, "items": [{"key": "k1", "path": "k1"}]}


def test_a_second_render_generates_other_keys(render):
    def key(sets):
        _, resources = render((), sets)
        return next(r for r in resources if r["metadata"]["name"] == SECRET)["data"]["k1"]

    assert key(()) != key(("api.replicaCount=1",))


def test_production_requires_tokens_without_dev_login_and_guards_the_legacy_routes(render):
    spec, env = _api(render(SCENARIOS["production"])[1])
    assert env["QUESTLINE_API_AUTH"] == "true"
    assert env["QUESTLINE_API_AUTH_DEV_LOGIN"] == "false"
    assert env["QUESTLINE_API_LEGACY"] in ("off", "client-key")
    assert env["QUESTLINE_API_LEGACY_CLIENT_KEY_FILE"] == "/etc/questline/auth/legacy/client-key"
    (volume,) = [v for v in spec["volumes"] if v["name"] == "legacy-client-key"]
    assert volume["secret"]["items"] == [{"key": "legacy-client-key", "path": "client-key"}]


def test_the_default_values_are_as_safe_as_production(render):
    _, env = _api(render(())[1])
    assert (env["QUESTLINE_API_AUTH"], env["QUESTLINE_API_AUTH_DEV_LOGIN"], env["QUESTLINE_API_LEGACY"]) == (
        "true",
        "false",
        "off",
    )


def test_kind_turns_auth_on_with_the_dev_login(render):
    _, env = _api(render(SCENARIOS["kind"])[1])
    assert (env["QUESTLINE_API_AUTH"], env["QUESTLINE_API_AUTH_DEV_LOGIN"]) == ("true", "true")


def test_an_existing_secret_is_mounted_and_none_is_generated(render):
    _, resources = render((), ("api.auth.existingSecret=game-login-keys",))
    assert not [r for r in resources if r["metadata"]["name"] == SECRET]
    spec, _ = _api(resources)
    assert {v["secret"]["secretName"] for v in spec["volumes"] if "secret" in v} == {"game-login-keys"}


def test_a_rotation_mounts_both_keys_and_signs_with_the_new_one(render):
    _, resources = render((), ("api.auth.keyIds={k1,k2}", "api.auth.signingKeyId=k2"))
    secret = next(r for r in resources if r["metadata"]["name"] == SECRET)
    assert {"k1", "k2"} <= set(secret["data"])
    spec, env = _api(resources)
    assert env["QUESTLINE_API_AUTH_SIGNING_KEY_ID"] == "k2"
    (volume,) = [v for v in spec["volumes"] if v["name"] == "auth-keys"]
    assert [i["key"] for i in volume["secret"]["items"]] == ["k1", "k2"]


def test_a_signing_key_that_does_not_verify_is_refused(tools):
    result = template(tools, (), ("api.auth.signingKeyId=k2",))
    assert result.returncode != 0
    assert "a key must verify before it signs" in result.stderr


def test_the_helm_test_pod_signs_its_own_service_token(render):
    _, resources = render(())
    (pod,) = [r for r in resources if r["kind"] == "Pod" and r["metadata"]["name"] == "questline-api-test"]
    mounts = pod["spec"]["containers"][0]["volumeMounts"]
    assert [m["mountPath"] for m in mounts] == ["/etc/questline/auth/keys"]
    assert '"service"' in pod["spec"]["containers"][0]["command"][2]
