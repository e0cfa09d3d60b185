"""Offline checks of every Dockerfile under images/: lint, build context, versions, users."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from docker.utils.build import exclude_paths
from imagelib import DOCKERFILES, NON_VERSION_ARGS, REPO, version_args

HADOLINT = Path(sys.executable).parent / "hadolint"


def test_there_is_a_dockerfile_per_built_image():
    from questline_images.specs import NAMES

    assert {p.parent.name for p in DOCKERFILES} == set(NAMES)


def test_hadolint_passes(image):
    result = subprocess.run([str(HADOLINT), str(image.path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_build_arg_is_a_pinned_version_or_declared_as_not_one(image):
    unknown = set(image.args()) - set(version_args(image.name)) - NON_VERSION_ARGS
    assert not unknown, f"{image.path}: ARG {sorted(unknown)} is neither in version_args() nor NON_VERSION_ARGS"


def test_build_arg_defaults_equal_versions_toml(image):
    expected = version_args(image.name)
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


def test_every_context_source_exists_and_reaches_the_builder(image):
    """COPY/ADD sources and bind-mounted files (images/common/apt-install.sh) alike."""
    context = _build_context(image)
    for source in image.context_sources():
        assert (REPO / source).exists(), f"{image.path}: {source} does not exist"
        sent = source in context or any(path.startswith(source.rstrip("/") + "/") for path in context)
        assert sent, f"{image.path}: {source} is excluded by the .dockerignore"


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
        assert base[2:-1] in version_args(image.name), f"{image.path}: FROM {base} is not pinned in versions.toml"
        assert args[base[2:-1]], f"{image.path}: FROM {base} has no default"
        if len(ins.value) == 3:
            stages.add(ins.value[2])


def test_every_image_runs_as_a_fixed_non_root_uid(image):
    users = [ins.value[0] for ins in image.final_stage() if ins.cmd == "USER"]
    assert users, f"{image.path}: the final stage sets no USER (it would run as root)"
    uid, _, gid = users[-1].partition(":")
    args = image.args()
    for part in (uid, gid):
        value = args.get(part[2:-1]) if part.startswith("${") else part
        assert value and value.isdigit() and int(value) > 0, (
            f"{image.path}: USER {users[-1]} is not a fixed non-root uid:gid"
        )


def test_every_image_labels_its_source_version(image):
    labels = " ".join(" ".join(ins.value) for ins in image.final_stage() if ins.cmd == "LABEL")
    for label in ("org.opencontainers.image.version", "org.opencontainers.image.title"):
        assert label in labels, f"{image.path}: no {label} label"


def test_no_final_stage_keeps_a_jdk_or_a_build_tool(image):
    for run in image.final_stage():
        if run.cmd == "RUN":
            command = run.value[0]
            for unwanted in ("-jdk", " maven", "python3-venv", "gcc"):
                assert unwanted not in command, f"{image.path}: the final stage installs {unwanted.strip()}"


def test_python_packages_are_installed_with_the_repository_constraints(image):
    for run in image.of("RUN"):
        command = run.value[0]
        if "pip install" in command:
            assert "-c /src/constraints.txt" in command, f"{image.path}: pip install without constraints: {command}"


def _local_packages() -> dict[str, Path]:
    """The repository's Python packages: distribution name -> directory."""
    found = {}
    for pyproject in REPO.glob("**/pyproject.toml"):
        if ".venv" in pyproject.parts or pyproject.parent == REPO:
            continue
        found[tomllib.loads(pyproject.read_text())["project"]["name"]] = pyproject.parent
    return found


def _local_dependencies(directory: Path, packages: dict[str, Path]) -> set[str]:
    """The repository packages `directory`'s package needs, itself included, transitively."""
    needed, todo = set(), [directory]
    while todo:
        project = tomllib.loads((todo.pop() / "pyproject.toml").read_text())["project"]
        if project["name"] in needed:
            continue
        needed.add(project["name"])
        for requirement in project.get("dependencies", []):
            name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
            if name in packages:
                todo.append(packages[name])
    return needed


# Python images -> the package whose code they run.
PYTHON_APPS = {"game-api": "services/game-api", "spark": "spark-apps"}


def test_each_python_image_installs_every_repository_package_its_app_needs(image):
    if image.name not in PYTHON_APPS:
        pytest.skip("not a Python application image")
    packages = _local_packages()
    copied = {str(Path(source)) for copy in image.of("COPY") for source in copy.value[:-1] if not copy.flags}
    installs = " ".join(run.value[0] for run in image.of("RUN") if "pip install" in run.value[0])
    for name in _local_dependencies(REPO / PYTHON_APPS[image.name], packages):
        source = str(packages[name].relative_to(REPO))
        assert source in copied, f"{image.path}: {name} ({source}) is needed but not copied"
        target = next(c.value[-1] for c in image.of("COPY") if c.value[0] == source)
        assert target.rstrip("/") in installs.split(), f"{image.path}: {name} is copied but not pip-installed"


def test_debian_packages_are_installed_one_way(image):
    """apt-get runs only inside images/common/apt-install.sh: extra CA certificates, no apt lists left."""
    for run in image.of("RUN"):
        assert "apt-get" not in " ".join(run.value), f"{image.path}: {run.original[:80]}... calls apt-get itself"
