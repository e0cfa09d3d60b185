"""Fixtures of the chart tests: the pinned tools and rendered manifests."""

from typing import Any

import pytest
from chartlib import ToolsError, documents, install_tools, rendered


@pytest.fixture(scope="session")
def tools():
    try:
        return install_tools()
    except ToolsError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def render(tools):
    """render(files, sets) -> (manifest text, list of resources), cached for the session."""

    def _render(files: tuple[str, ...] = (), sets: tuple[str, ...] = ()) -> tuple[str, list[dict[str, Any]]]:
        text = rendered(tools, tuple(files), tuple(sets))
        return text, documents(text)

    return _render
