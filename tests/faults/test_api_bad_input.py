"""Scenario 4: bad input at the API never gives a 5xx and never produces an event.

Runs against the shared stack's Kafka with the API under gunicorn, on a topic of this module
only (never the user's `events`: the fuzzer's accepted events would land in the next report).
Every request carries a unique marker (User-Agent, player ids), so the records it caused are
told apart from the rest. An answer is either a 4xx problem document with nothing produced,
or a 2xx whose event holds the input verbatim (text is data, not code).
"""

import json
import uuid
from collections import Counter
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from api_stack import Gunicorn, TopicReader
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode

from questline_stack.scratch import Scratch

pytestmark = [pytest.mark.stack, pytest.mark.timeout(900)]

MARKER = f"questline-faults-{uuid.uuid4().hex[:10]}"
PROBLEM_JSON = "application/problem+json"

INJECTIONS = [
    "'; DROP TABLE events; --",
    '" OR 1=1 --',
    "${jndi:ldap://127.0.0.1:1/a}",
    "{{7*7}}${7*7}<%= 7*7 %>",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "$(rm -rf /)`id`",
    "line\r\nX-Injected: yes",
    "%00%0d%0a",
    "\\u0000",
]
UNICODE = [
    "\u0000nul",
    "\u202eevil\u202c",  # right-to-left override
    "zero\u200bwidth\ufeff",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🗡️🛡️🐎 👨‍👩‍👧",
    "e\u0301" * 200,  # combining marks
    "\uffff\ufffe",
    "ｆｕｌｌｗｉｄｔｈ",
]


@pytest.fixture(scope="module")
def scratch_topic(kafka_stack):
    with Scratch(kafka_stack, "badinput") as scratch:
        yield scratch.topic


@pytest.fixture(scope="module")
def api(kafka_stack, scratch_topic, tmp_path_factory):
    log = tmp_path_factory.mktemp("bad-input") / "gunicorn.log"
    server = Gunicorn(
        kafka_stack.kafka_bootstrap,
        log,
        workers=2,
        **kafka_stack.kafka_env("api"),
        QUESTLINE_EVENTS_TOPIC=scratch_topic,
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def topic(kafka_stack, scratch_topic):
    return TopicReader(kafka_stack, scratch_topic)


def _ours(records):
    return [event for _key, event in records if MARKER in json.dumps(event)]


def _send(api, method, path, *, headers=None, **kwargs) -> httpx.Response:
    headers = {"User-Agent": MARKER, **(headers or {})}
    return httpx.request(method, api.url + path, headers=headers, timeout=30, **kwargs)


def _assert_problem(response: httpx.Response, statuses=range(400, 500)) -> dict:
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"] == PROBLEM_JSON, (response.headers, response.text[:300])
    problem = response.json()
    assert problem["status"] == response.status_code and problem["detail"] and problem["title"]
    return problem


def _rejected_cases(player):
    purchases = f"/v1/players/{player}/purchases"
    sword = {"item": "sword", "item_type": "katana", "strength": 5, "description": MARKER}
    json_header = {"Content-Type": "application/json"}
    yield "malformed JSON", "POST", purchases, {"content": b'{"item": "sword", ', "headers": json_header}
    yield "JSON with a lone surrogate", "POST", purchases, {"content": b'{"item": "\\ud800"}', "headers": json_header}
    yield "invalid UTF-8", "POST", purchases, {"content": b'{"item": "\xff\xfe"}', "headers": json_header}
    yield "not an object", "POST", purchases, {"json": [sword]}
    yield (
        "wrong content type",
        "POST",
        purchases,
        {"content": json.dumps(sword), "headers": {"Content-Type": "text/plain"}},
    )
    yield "no content type", "POST", purchases, {"content": json.dumps(sword).encode()}
    yield "form encoded", "POST", purchases, {"data": {"item": "sword"}}
    yield "wrong types", "POST", purchases, {"json": {**sword, "strength": "very"}}
    yield "negative strength", "POST", purchases, {"json": {**sword, "strength": -1}}
    yield "huge number", "POST", purchases, {"json": {**sword, "strength": 10**40}}
    yield "unknown item", "POST", purchases, {"json": {**sword, "item": "dragon"}}
    yield "body over the size limit", "POST", purchases, {"json": {**sword, "description": "x" * 3_000_000}}
    yield "description over its limit", "POST", purchases, {"json": {**sword, "description": "x" * 600}}
    yield "bad Idempotency-Key", "POST", purchases, {"json": sword, "headers": {"Idempotency-Key": "has spaces in it"}}
    yield "long Idempotency-Key", "POST", purchases, {"json": sword, "headers": {"Idempotency-Key": "k" * 101}}
    yield "empty batch", "POST", "/v1/events:batch", {"json": {"events": []}}
    yield "batch with an extra field", "POST", "/v1/events:batch", {"json": {"events": [], "also": 1}}
    yield (
        "batch item of unknown type",
        "POST",
        "/v1/events:batch",
        {"json": {"events": [{"event_type": "summon_dragon", "player_id": player, "description": MARKER}]}},
    )
    yield (
        "batch with one bad item among good ones",
        "POST",
        "/v1/events:batch",
        {
            "json": {
                "events": [
                    {"event_type": "default", "player_id": player, "description": MARKER},
                    {"event_type": "join_guild", "player_id": player, "payload": {"guild_name": 7}},
                ]
            }
        },
    )
    yield (
        "oversize batch",
        "POST",
        "/v1/events:batch",
        {"json": {"events": [{"event_type": "default", "player_id": player, "description": MARKER}] * 1001}},
    )
    yield "unknown route", "POST", f"/v1/players/{player}/dragons", {"json": sword}
    yield "wrong method", "PUT", purchases, {"json": sword}
    for text in INJECTIONS + UNICODE:
        yield (
            f"player id {text!r}",
            "POST",
            f"/v1/players/{quote(text, safe='')}/purchases",
            {"json": sword},
        )


def test_malformed_requests_get_a_4xx_problem_and_produce_nothing(api, topic):
    player = f"{MARKER}-p"
    mark = topic.mark()
    answers = {}
    for name, method, path, kwargs in _rejected_cases(player):
        response = _send(api, method, path, **kwargs)
        answers[name] = response.status_code
        _assert_problem(response)
    print(f"{len(answers)} malformed requests: {answers}")
    assert _ours(topic.records_since(mark)) == []


def test_huge_headers_and_urls_are_refused_without_a_5xx_or_an_event(api, topic):
    """gunicorn itself refuses these before the app runs; the answer is still a 4xx problem document."""
    player = f"{MARKER}-h"
    sword = {"item": "sword", "strength": 5, "description": MARKER}
    mark = topic.mark()
    cases = {
        "one header of 64 KiB": {"headers": {"X-Big": "a" * 65_536}},
        "User-Agent of 16 KiB": {"headers": {"User-Agent": MARKER + "a" * 16_384}},
        "200 headers": {"headers": {f"X-H{i}": "v" for i in range(200)}},
    }
    answers = {}
    for name, kwargs in cases.items():
        response = _send(api, "POST", f"/v1/players/{player}/purchases", json=sword, **kwargs)
        answers[name] = (response.status_code, _assert_problem(response)["title"])
    long_url = _send(api, "GET", "/purchase_a_sword?player_id=" + player + "&sword_type=" + "a" * 10_000)
    answers["URL of 10 KB"] = (long_url.status_code, _assert_problem(long_url)["title"])
    print(f"oversize header/URL answers: {answers}")
    assert _ours(topic.records_since(mark)) == []


@pytest.mark.parametrize("field", ["description", "item_type", "guild_name", "target_guild", "Idempotency-Key"])
def test_injection_and_unicode_strings_in_each_field_are_data_or_a_4xx(api, topic, field):
    mark = topic.mark()
    accepted, refused = {}, 0
    for i, text in enumerate(INJECTIONS + UNICODE):
        player = f"{MARKER}-{field.lower()}-{i}"
        headers, description = {}, MARKER
        if field == "description":
            description = MARKER + text
        if field == "Idempotency-Key":
            headers["Idempotency-Key"] = text.replace("\r\n", " ")
        if field in ("description", "item_type", "Idempotency-Key"):
            body = {"item": "sword", "strength": 1, "description": description}
            if field == "item_type":
                body["item_type"] = text
            path = f"/v1/players/{player}/purchases"
        elif field == "guild_name":
            body, path = {"guild_name": text, "description": description}, f"/v1/players/{player}/guild-memberships"
        else:
            body = {"player_id": player, "target_guild": text, "description": description}
            path = "/v1/guilds/knights/wars"
        try:
            response = _send(api, "POST", path, json=body, headers=headers)
        except (httpx.LocalProtocolError, UnicodeEncodeError):
            refused += 1  # httpx itself will not put the text in a header: nothing was sent
            continue
        if response.status_code == 202:
            accepted[response.json()["event_id"]] = (text, body)
        else:
            _assert_problem(response)
            refused += 1
    records = {event["event_id"]: event for event in _ours(topic.records_since(mark))}
    print(f"{field}: {len(accepted)} accepted as data, {refused} refused")
    assert set(records) == set(accepted)  # nothing produced for a refusal, everything for an acceptance
    for event_id, (text, body) in accepted.items():
        event = records[event_id]
        stored = {
            **event["payload"],
            "description": event["description"],
            "Idempotency-Key": event.get("client_event_id"),
        }
        expected = text if field == "Idempotency-Key" else body[field]
        assert stored[field] == expected, (field, text)


def test_openapi_fuzzing_gets_no_5xx_every_error_is_a_problem_and_only_2xx_produce(api, topic):
    """Valid and invalid requests generated from the served OpenAPI document."""
    schema = schemathesis.openapi.from_url(f"{api.url}/v1/openapi.json")
    mark = topic.mark()
    produced_ids, statuses = set(), Counter()
    operations = []
    for operation in (result.ok() for result in schema.get_all_operations()):
        # Without a parameter or a body there is nothing to get wrong: positive cases only.
        invalid_possible = list(operation.iter_parameters()) or operation.get_request_payload_content_types()
        operations += [(operation, mode) for mode in GenerationMode if invalid_possible or mode.is_positive]
    for operation, mode in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def fuzz(case):
            response = case.call(headers={"User-Agent": MARKER})
            label = case.operation.label
            statuses[f"{label} {response.status_code}"] += 1
            assert response.status_code < 500, (label, response.status_code, response.text[:300])
            if 400 <= response.status_code < 500:
                assert response.headers.get("content-type") == [PROBLEM_JSON], (label, response.text[:200])
            elif response.status_code == 202:
                body = response.json()
                # An erasure request's event id is its erasure_id (DELETE /v1/players/{id}).
                produced_ids.update(r.get("event_id", r.get("erasure_id")) for r in body.get("results", [body]))

        fuzz()
    records = _ours(topic.records_since(mark))
    print(f"fuzzing: {statuses.total()} requests, {len(records)} events produced; {dict(statuses)}")
    # The v1 routes name the event ids they produced; the legacy GET routes answer 200 in plain text.
    assert {e["event_id"] for e in records if e["source"] == "v1"} == produced_ids
    legacy_ok = sum(n for key, n in statuses.items() if key.startswith("GET /") and not key.startswith("GET /v1")
                    and key.endswith(" 200") and key.split()[1] not in ("/healthz", "/readyz", "/metrics"))  # fmt: skip
    assert sum(e["source"] == "legacy" for e in records) == legacy_ok
