"""The executor pod template is one the API server accepts once Spark has added its own parts:
Spark mounts an emptyDir at each of its local dirs (the image's SPARK_LOCAL_DIRS), so the template
must mount nothing there (on the one-node cluster a second mount at /opt/spark/work-dir made the
API server refuse every executor pod: "mountPath: must be unique")."""

import re
from pathlib import Path

import pytest
import yaml
from chartlib import SCENARIOS

pytestmark = pytest.mark.charts

DOCKERFILE = Path(__file__).resolve().parents[2] / "images" / "spark" / "Dockerfile"


def _spark_local_dirs() -> list[str]:
    match = re.search(r"SPARK_LOCAL_DIRS=(\S+)", DOCKERFILE.read_text())
    assert match, f"{DOCKERFILE} sets no SPARK_LOCAL_DIRS"
    return match[1].split(",")


@pytest.mark.parametrize("files", list(SCENARIOS.values()), ids=list(SCENARIOS))
def test_executor_template_mounts_nothing_where_spark_mounts_its_local_dirs(render, files):
    _, resources = render(files)
    conf = next(
        (r for r in resources if r["kind"] == "ConfigMap" and "executor-pod-template.yaml" in r.get("data", {})), None
    )
    if conf is None:
        pytest.skip("no Spark apps in this scenario")
    pod = yaml.safe_load(conf["data"]["executor-pod-template.yaml"])
    paths = [m["mountPath"] for c in pod["spec"]["containers"] for m in c.get("volumeMounts", [])]
    assert len(paths) == len(set(paths)), f"duplicate mount paths in the executor template: {paths}"
    clashes = set(paths) & set(_spark_local_dirs())
    assert not clashes, f"the executor template mounts {sorted(clashes)}, where Spark mounts its local dir"
