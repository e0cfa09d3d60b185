"""Offline checks of every Dockerfile under images/: lint, build context, versions, users."""

import subprocess
import sys
from pathlib import Path

import pytest
from docker.utils.build import exclude_paths
from imagelib import DOCKERFILES, NON_VERSION_ARGS, REPO, parse, version_args

HADOLINT = Path(sys.executable).parent / "hadolint"


def test_there_is_a_dockerfile_per_built_image():
    assert {p.parent.name for p in DOCKERFILES} == {"api", "spark", "hive-metastore"}


def test_hadolint_passes(image):
    result = subprocess.run([str(HADOLINT), str(image.path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_build_arg_is_a_pinned_version_or_declared_as_not_one(image):
    unknown = set(image.args()) - set(version_args()) - NON_VERSION_ARGS
    assert not unknown, f"{image.path}: ARG {sorted(unknown)} is neither in version_args() nor NON_VERSION_ARGS"


def test_build_arg_defaults_equal_versions_toml(image):
    expected = version_args()
    drift = {
        name: (default, expected[name])
        for name, default in image.args().items()
        if name in expected and default != expected[name]
    }
    assert not drift, f"{image.path}: ARG default != versions.toml: {drift}"


def _build_context(image) -> set[str]:
    """The files the builder receives: the repository root filtered by the Dockerfile's own ignore file."""
    ignore = Path(f"{image.path}.dockerignore")
    assert ignore.is_file(), f"{ignore} is missing: without it the whole repository (.venv too) is sent"
    patterns = [line.strip() for line in ignore.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return exclude_paths(str(REPO), patterns, dockerfile=str(image.path.relative_to(REPO)))


def test_every_copy_source_exists_and_reaches_the_builder(image):
    context = _build_context(image)
    for copy in image.of("COPY") + image.of("ADD"):
        if any(flag.startswith("--from=") for flag in copy.flags):
            continue
        for source in copy.value[:-1]:
            assert (REPO / source).exists(), f"{image.path}: COPY source {source} does not exist"
            sent = source in context or any(path.startswith(source.rstrip("/") + "/") for path in context)
            assert sent, f"{image.path}: COPY source {source} is excluded by the .dockerignore"


def test_the_build_context_holds_no_virtualenv_cache_or_tests(image):
    unwanted = [p for p in _build_context(image) if {".venv", "__pycache__", "tests"} & set(p.split("/"))]
    assert not unwanted, f"{image.path}: the build context would include {unwanted[:5]}"


def test_every_base_image_is_a_pinned_build_arg_or_an_earlier_stage(image):
    args = image.args()
    stages: set[str] = set()
    for ins in image.of("FROM"):
        base = ins.value[0]
        if base in stages:
            continue
        assert base.startswith("${") and base.endswith("}"), f"{image.path}: FROM {base} is not a build arg"
        assert base[2:-1] in version_args(), f"{image.path}: FROM {base} is not pinned in versions.toml"
        assert args[base[2:-1]], f"{image.path}: FROM {base} has no default"
        if len(ins.value) == 3:
            stages.add(ins.value[2])


@pytest.mark.parametrize("name", ["api", "spark"])
def test_our_python_images_run_as_a_non_root_user(name):
    users = [ins.value[0] for ins in parse(REPO / "images" / name / "Dockerfile").final_stage() if ins.cmd == "USER"]
    assert users, f"images/{name}: the final stage sets no USER (it would run as root)"
    assert users[-1] not in ("root", "0"), f"images/{name}: runs as {users[-1]}"


def test_python_packages_are_installed_with_the_repository_constraints(image):
    for run in image.of("RUN"):
        command = run.value[0]
        if "pip install" in command:
            assert "-c /src/constraints.txt" in command, f"{image.path}: pip install without constraints: {command}"
