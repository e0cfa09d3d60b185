"""The charts lint cleanly and every rendered resource is valid against the Kubernetes
schemas of the target version and the Strimzi and Prometheus operator CRDs, for each
values scenario."""

import re
import subprocess

import pytest
import yaml
from chartlib import CHART, SCENARIOS, helm, values_args

pytestmark = pytest.mark.charts


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_helm_lint_strict_passes(tools, files):
    result = helm(
        tools, "lint", "--strict", "--kube-version", tools.kubernetes_version, str(CHART), *values_args(files)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout + result.stderr


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_every_rendered_resource_is_valid_and_none_is_skipped(tools, render, files):
    manifest, resources = render(files)
    cmd = tools.kubeconform_command("-strict", "-summary", "-output", "text")
    result = subprocess.run(cmd, input=manifest, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = re.search(
        r"Summary: (\d+) resources? found .* Valid: (\d+), Invalid: (\d+), Errors: (\d+), Skipped: (\d+)", result.stdout
    )
    assert summary, result.stdout
    found, valid, invalid, errors, skipped = map(int, summary.groups())
    assert (invalid, errors, skipped) == (0, 0, 0), result.stdout
    assert found == valid == len(resources)


@pytest.mark.parametrize(
    ("files", "field", "typo"),
    [
        ((), "  partitions: 6\n", "  partitons: 6\n"),  # a Strimzi KafkaTopic
        (
            ("ci/scenario-kafka-and-api-only.yaml",),
            "      path: /metrics\n",
            "      paht: /metrics\n",
        ),  # ServiceMonitor
    ],
    ids=["strimzi", "servicemonitor"],
)
def test_kubeconform_rejects_an_unknown_field_in_a_custom_resource(tools, render, files, field, typo):
    # Guards the guard: the CRD schemas are strict, so a typo cannot pass as "valid".
    manifest, _ = render(files)
    broken = manifest.replace(field, field + typo, 1)
    assert broken != manifest
    cmd = tools.kubeconform_command("-strict", "-summary")
    result = subprocess.run(cmd, input=broken, capture_output=True, text=True)
    assert result.returncode != 0
    assert typo.strip().split(":")[0] in result.stdout


def test_every_template_renders_in_some_scenario(render):
    """No template is dead code the validation never sees."""
    rendered_sources = set()
    for files in SCENARIOS.values():
        manifest, _ = render(files)
        rendered_sources |= set(re.findall(r"^# Source: (\S+)", manifest, re.M))
    # Sources are named after the dependency's alias (hive-metastore -> hiveMetastore).
    aliases = {
        d["name"]: d.get("alias", d["name"]) for d in yaml.safe_load((CHART / "Chart.yaml").read_text())["dependencies"]
    }
    templates = set()
    for path in CHART.rglob("templates/**/*.yaml"):
        parts = path.relative_to(CHART).parts
        if parts[0] == "charts":
            parts = ("charts", aliases[parts[1]], *parts[2:])
        templates.add("/".join(("questline", *parts)))
    missing = templates - rendered_sources
    assert not missing, sorted(missing)


def test_notes_tell_how_to_reach_the_api_and_trino(tools):
    # A client-side dry run renders NOTES.txt without any cluster.
    result = helm(
        tools,
        "install",
        "questline",
        str(CHART),
        "--namespace",
        "questline",
        "--dry-run=client",
        *values_args(("values-kind.yaml",)),
    )
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    assert "http://questline.localtest.me" in notes
    assert "port-forward service/questline-api" in notes
    assert "port-forward service/questline-trino" in notes
    assert "helm test questline" in notes
