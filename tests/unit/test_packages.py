"""Every Python package of the repository is installed by `make venv`, and what it needs of the
repository is another package there (a new package that the Makefile forgets fails here, not
in someone's fresh checkout)."""

import re
import tomllib

from questline_devkit.versions import repo_root

ROOT = repo_root()


def _makefile_packages() -> list[str]:
    match = re.search(r"^PACKAGES := (.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert match, "Makefile has no PACKAGES line"
    return match.group(1).split()


def _projects() -> dict[str, dict]:
    return {
        str(p.parent.relative_to(ROOT)): tomllib.loads(p.read_text())["project"]
        for p in ROOT.glob("**/pyproject.toml")
        if p.parent != ROOT and ".venv" not in p.parts
    }


def test_make_venv_installs_every_package_of_the_repository():
    assert sorted(_makefile_packages()) == sorted(_projects())


def test_repository_dependencies_are_packages_of_the_repository():
    projects = _projects()
    names = {project["name"] for project in projects.values()}
    for directory, project in projects.items():
        for requirement in project.get("dependencies", []):
            name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
            if name.startswith("questline-"):
                assert name in names, f"{directory} needs {name}, which no pyproject.toml in the repository defines"
