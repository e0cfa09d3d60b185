"""The Strimzi CRDs on a real API server: they are served, and they refuse invalid resources."""

import copy
import json

import pytest
from apiserverlib import Helm, crd_established
from kubernetes.client.rest import ApiException

pytestmark = pytest.mark.apiserver


def test_strimzi_crds_are_established_and_serve_v1(api_client, strimzi_crds):
    from kubernetes import client

    assert {"kafkas.kafka.strimzi.io", "kafkanodepools.kafka.strimzi.io", "kafkatopics.kafka.strimzi.io"} <= set(
        strimzi_crds
    )
    for name in strimzi_crds:
        assert crd_established(api_client, name)
        crd = client.ApiextensionsV1Api(api_client).read_custom_resource_definition(name)
        assert [v.name for v in crd.spec.versions if v.served and v.storage] == ["v1"]


@pytest.fixture(scope="module")
def rendered_strimzi(tools, control_plane_settings) -> dict[str, dict]:
    """The chart's own Kafka and KafkaTopic (default values): known-good bases to break."""
    helm = Helm(tools["QUESTLINE_HELM"], control_plane_settings.kubeconfig)
    return {obj["kind"]: obj for obj in helm.template() if obj["apiVersion"].startswith("kafka.strimzi.io/")}


def _create(dyn, namespace: str, body: dict, *, dry_run: bool) -> None:
    resource = dyn.resources.get(api_version=body["apiVersion"], kind=body["kind"])
    resource.create(body=body, namespace=namespace, dry_run="All" if dry_run else None)


@pytest.mark.parametrize(
    ("kind", "break_it", "expected"),
    [
        pytest.param(
            "Kafka",
            lambda spec: spec["kafka"]["listeners"][0].update(type="carrier-pigeon"),
            'spec.kafka.listeners[0].type: Unsupported value: "carrier-pigeon"',
            id="kafka-listener-type-outside-the-enum",
        ),
        pytest.param(
            "KafkaTopic",
            lambda spec: spec.update(partitions="six"),
            'spec.partitions: Invalid value: "string": spec.partitions in body must be of type integer',
            id="topic-partitions-not-an-integer",
        ),
    ],
)
def test_invalid_custom_resource_is_refused_with_a_message_naming_the_field(
    dyn, strimzi_crds, rendered_strimzi, namespace, kind, break_it, expected
):
    good = rendered_strimzi[kind]
    # The unbroken resource passes the same validation, so the refusal is the defect's.
    _create(dyn, namespace, good, dry_run=True)
    bad = copy.deepcopy(good)
    break_it(bad["spec"])
    with pytest.raises(ApiException) as refused:
        _create(dyn, namespace, bad, dry_run=False)
    assert refused.value.status == 422
    message = json.loads(refused.value.body)["message"]
    assert expected in message, message
