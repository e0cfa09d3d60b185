"""Fixtures of the image tests (helpers are in imagelib.py)."""

import pytest
import yaml
from imagelib import DOCKERFILES, REPO, Dockerfile, parse


@pytest.fixture(params=DOCKERFILES, ids=lambda p: p.parent.name)
def image(request) -> Dockerfile:
    return parse(request.param)


@pytest.fixture(scope="session")
def skaffold() -> dict:
    return yaml.safe_load((REPO / "skaffold.yaml").read_text())


@pytest.fixture(scope="session")
def artifacts(skaffold) -> dict[str, dict]:
    """skaffold artifact image name -> artifact."""
    return {a["image"]: a for a in skaffold["build"]["artifacts"]}


@pytest.fixture(scope="module")
def podman():
    """Containers started by one test module, removed when it ends (also after a failure)."""
    from containers import Podman

    runner = Podman.load()
    yield runner
    runner.cleanup()
