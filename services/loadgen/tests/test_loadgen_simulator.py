"""The simulator against the real game API code in-process (a recording producer stands
in for Kafka; the Kafka round trip is in test_loadgen_stack.py)."""

import asyncio
import collections

import httpx
import pytest
from inprocess_api import InProcessApi

from questline_events import EVENT_TYPES, validate_event
from questline_loadgen import settings as settings_module
from questline_loadgen.ground_truth import expected_event_id
from questline_loadgen.simulator import Simulator


def simulate(api_transport, tmp_path, **overrides):
    values = {"players": 20, "rate": 0, "duration": 0.8, "concurrency": 6, "seed": 3, "progress": False}
    values.update(overrides)
    settings = settings_module.load([], {}, run_id="t1", ground_truth=tmp_path / "gt.json", **values)
    simulator = Simulator(settings, transport=api_transport)
    return asyncio.run(simulator.run())


def test_every_acknowledged_event_is_produced_once_with_the_id_the_simulator_expects(tmp_path):
    api = InProcessApi()
    truth = simulate(api.transport(), tmp_path)
    produced = api.producer.events
    assert truth.total_acknowledged > 50
    assert sorted(e["event_id"] for e in produced) == sorted(truth.acknowledged_ids)
    assert len(set(truth.acknowledged_ids)) == len(truth.acknowledged_ids)
    assert truth.total_sent == truth.total_acknowledged
    assert not truth.id_mismatches
    for event in produced:
        validate_event(event)
        assert event["player_id"].startswith("t1-p")


def test_a_run_uses_legacy_single_and_batch_routes_and_every_event_type(tmp_path):
    api = InProcessApi()
    truth = simulate(api.transport(), tmp_path, duration=1.5)
    assert set(truth.acknowledged_by_transport) == {"legacy", "v1", "v1-batch"}
    assert set(truth.acknowledged) == set(EVENT_TYPES)
    sources = collections.Counter(e["source"] for e in api.producer.events)
    assert sources["legacy"] == truth.acknowledged_by_transport["legacy"]
    assert any(e["client_time"] for e in api.producer.events if e.get("client_time"))


def test_events_carry_each_players_host_and_the_ground_truth_sums_per_host(tmp_path):
    api = InProcessApi()
    truth = simulate(api.transport(), tmp_path)
    document = truth.to_dict()
    host_of = {p: t["host"] for p, t in document["per_player"].items()}
    by_host = collections.Counter(e["request"]["host"] for e in api.producer.events)
    assert {e["request"]["host"] for e in api.producer.events} == {host_of[e["player_id"]] for e in api.producer.events}
    assert {h: c["acknowledged"] for h, c in document["per_host"].items()} == dict(by_host)
    spend = sum((e["payload"].get("price") or 0) for e in api.producer.events if e["event_type"].startswith("purchase"))
    assert sum(c.get("spend", 0) for c in document["per_host"].values()) == spend


def test_guild_counts_match_the_membership_and_declaration_events(tmp_path):
    api = InProcessApi()
    truth = simulate(api.transport(), tmp_path, duration=1.5)
    guilds = truth.to_dict()["per_guild"]
    events = api.producer.events
    for guild, counts in guilds.items():
        mine = [e for e in events if e["payload"].get("guild_name") == guild]
        assert counts["joins"] == sum(e["event_type"] == "join_guild" for e in mine)
        assert counts["leaves"] == sum(e["event_type"] == "leave_guild" for e in mine)
        assert counts["wars_declared"] == sum(e["event_type"] == "declare_war" for e in mine)
        assert counts["members_at_end"] == counts["joins"] - counts["leaves"]


def test_a_503_is_retried_with_the_same_key_and_acknowledged_once(tmp_path):
    api = InProcessApi()
    api.producer.fail_next = 3
    truth = simulate(api.transport(), tmp_path, players=1, concurrency=1, duration=0.3)
    assert truth.retries >= 3
    assert truth.total_acknowledged == truth.total_sent
    assert len(api.producer.events) == truth.total_acknowledged
    first = api.requests[0]
    retried = [r for r in api.requests[1:4]]
    keys = {r.headers.get("Idempotency-Key") for r in [first, *retried]}
    bodies = {r.content for r in [first, *retried]}
    assert len(keys) == 1 and len(bodies) == 1


def test_a_request_that_never_gets_an_answer_is_unknown_not_acknowledged(tmp_path):
    def timeout(request):
        raise httpx.ReadTimeout("no answer", request=request)

    truth = simulate(httpx.MockTransport(timeout), tmp_path, players=2, concurrency=2, duration=0.2, max_retries=1)
    assert truth.total_acknowledged == 0
    assert len(truth.unknown_ids) == truth.total_sent > 0


def test_a_refused_request_is_rejected_and_not_retried(tmp_path):
    calls = []

    def refuse(request):
        calls.append(request)
        return httpx.Response(422, json={"title": "nope"})

    truth = simulate(httpx.MockTransport(refuse), tmp_path, players=1, concurrency=1, duration=0.2, auth="none")
    assert truth.total_acknowledged == 0
    assert sum(truth.rejected.values()) == truth.total_sent
    assert len(calls) == truth.to_dict()["totals"]["requests"]


@pytest.mark.parametrize("transport_kind", ["legacy", "v1", "v1-batch"])
def test_expected_event_ids_follow_the_api_rule_for_each_route(tmp_path, transport_kind):
    api = InProcessApi()
    truth = simulate(api.transport(), tmp_path, duration=1.0)
    assert truth.acknowledged_by_transport[transport_kind] > 0
    by_key = {e["client_event_id"]: e for e in api.producer.events}
    for key, event in by_key.items():
        assert event["event_id"] == expected_event_id_for(event["player_id"], key)


def expected_event_id_for(player_id, key):
    from questline_loadgen.world import Action

    return expected_event_id(Action("default", player_id, key, {}, ""))


def test_behind_an_ingress_every_request_carries_one_host_header(tmp_path):
    # An ingress routes by host; reached by address (no DNS), the host name is sent as the header.
    api = InProcessApi()
    truth = simulate(api.transport(), tmp_path, send_player_host=False, host_header="questline.localtest.me")
    assert truth.total_acknowledged > 0
    assert {e["request"]["host"] for e in api.producer.events} == {"questline.localtest.me"}


def test_behind_an_ingress_the_login_takes_the_same_route_as_the_requests(tmp_path):
    # The first real run through the node's Ingress: logins went without the Host header, the
    # ingress answered 404, and every /v1 request then went without a token (401).
    api = InProcessApi()

    def ingress(request: httpx.Request) -> httpx.Response:
        if request.headers.get("host") != "questline.localtest.me":
            return httpx.Response(404, text="404 page not found")
        return api.handle(request)

    truth = simulate(
        httpx.MockTransport(ingress), tmp_path, send_player_host=False, host_header="questline.localtest.me"
    )
    assert api.logins > 0
    assert truth.acknowledged_by_transport["v1"] > 0 and truth.acknowledged_by_transport["v1-batch"] > 0
    assert sum(truth.rejected.values()) == 0


def test_a_host_header_with_per_player_hosts_is_refused(tmp_path):
    with pytest.raises(settings_module.SettingsError, match="needs QUESTLINE_LOADGEN_SEND_PLAYER_HOST=false"):
        settings_module.load([], {"QUESTLINE_LOADGEN_HOST_HEADER": "questline.localtest.me"})


def test_each_player_logs_in_once_and_sends_its_token_on_v1_only(tmp_path):
    api = InProcessApi()
    truth = simulate(api.transport(), tmp_path, players=5, concurrency=5)
    assert truth.total_acknowledged == truth.total_sent > 0
    assert 0 < api.logins <= 5
    for request in api.requests:
        assert ("Authorization" in request.headers) == request.url.path.startswith("/v1/")


def test_without_a_dev_login_the_run_goes_on_without_tokens(tmp_path):
    api = InProcessApi(auth=False)
    truth = simulate(api.transport(), tmp_path, players=3, concurrency=3)
    assert truth.total_acknowledged == truth.total_sent > 0
    assert api.logins == 1  # one 404, then no more asking
    assert not [r for r in api.requests if "Authorization" in r.headers]
