"""End to end on kind: deploy the stack with skaffold (`skaffold run -p kind`, reusing unchanged
images), then run the same smoke flow as `make smoke`. Needs a Docker engine, kind, skaffold, helm
and the questline kind cluster (`make kind-up`); skips naming what is missing otherwise."""

import subprocess

import pytest

from questline_kind import cli, cluster, smoke, tools
from questline_kind.settings import load

pytestmark = pytest.mark.e2e


def _missing(settings) -> str | None:
    problem = tools.docker_engine_problem()
    if problem:
        return problem
    for name in ("kind", "skaffold", "helm", "kubectl"):
        if not tools.find(settings, name):
            return f"{name} is not installed (make kind-tools builds kind and skaffold)"
    if not cluster.cluster_exists(settings, tools.find(settings, "kind")):
        return f"no kind cluster named {settings.cluster_name} (make kind-up creates it)"
    return None


@pytest.fixture(scope="module")
def deployed():
    settings = load()
    reason = _missing(settings)
    if reason:
        pytest.skip(f"the kind end-to-end path cannot run here: {reason}")
    env = cli.skaffold_env(settings)
    result = subprocess.run(
        cli.skaffold_argv(settings, tools.find(settings, "skaffold"), "run", "kind", port_forward=False),
        cwd=settings.repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"skaffold run failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return settings


@pytest.mark.timeout(3600)
def test_actions_posted_through_the_ingress_are_counted_by_trino(deployed):
    result = smoke.run(deployed)
    assert result.counts == smoke.expected_counts(result.player_id)
