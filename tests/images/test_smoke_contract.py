"""The smoke test's traffic agrees with the API's OpenAPI document and the event names."""

import re

import yaml
from imagelib import REPO

from questline_events.names import EVENT_TYPES, TABLES
from questline_kind import smoke

OPENAPI = REPO / "services" / "game-api" / "src" / "questline_api" / "openapi.yaml"


def _route_of(path: str, routes: dict) -> str | None:
    for template in routes:
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path):
            return template
    return None


def test_every_smoke_request_is_a_route_and_method_of_the_api():
    routes = yaml.safe_load(OPENAPI.read_text())["paths"]
    for action in smoke.actions("smoke-player"):
        route = _route_of(action.path, routes)
        assert route, f"{action.path} matches no route in {OPENAPI.name}"
        assert action.method.lower() in routes[route], f"{action.method} {route} is not in {OPENAPI.name}"


def test_the_expected_counts_use_known_event_types_and_tables():
    counts = smoke.expected_counts("smoke-player")
    assert set(counts) <= set(TABLES)
    assert all(t in EVENT_TYPES for c in counts.values() for t in c)


def test_every_action_lands_once_in_events_and_once_in_its_family_table():
    counts = smoke.expected_counts("smoke-player")
    families = sum((c for table, c in counts.items() if table != "events"), start=type(counts["events"])())
    assert counts["events"] == families
    assert sum(counts["events"].values()) == len(smoke.actions("smoke-player"))
