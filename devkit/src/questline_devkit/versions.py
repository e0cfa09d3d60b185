"""Read the one pinned version table (versions.toml at the repository root)."""

import functools
import os
import tomllib
from pathlib import Path
from typing import Any


def repo_root() -> Path:
    override = os.environ.get("QUESTLINE_REPO")
    if override:
        return Path(override)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "versions.toml").is_file():
            return parent
    raise FileNotFoundError(f"versions.toml not found above {here}; set QUESTLINE_REPO to the repository root")


@functools.cache
def versions() -> dict[str, Any]:
    with open(repo_root() / "versions.toml", "rb") as f:
        return tomllib.load(f)


def version(component: str) -> str:
    return versions()[component]["version"]
