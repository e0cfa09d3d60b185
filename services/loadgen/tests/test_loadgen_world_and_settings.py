import random

import pytest

from questline_loadgen import routes
from questline_loadgen import settings as settings_module
from questline_loadgen.world import GUILDS, World


def plan(seed: int, players: int = 30, sessions: int = 3):
    world = World("r1", seed, players)
    out = []
    for player in world.players:
        for _ in range(sessions):
            rng = world.session_rng(player)
            out += [(a.event_type, a.player_id, a.key, a.payload) for a in world.session(player, rng)]
    return world, out


def test_the_same_seed_yields_the_same_players_and_actions():
    world_a, actions_a = plan(seed=11)
    world_b, actions_b = plan(seed=11)
    _, actions_c = plan(seed=12)
    assert [(p.host, p.client) for p in world_a.players] == [(p.host, p.client) for p in world_b.players]
    assert actions_a == actions_b
    assert actions_a != actions_c


def test_players_only_leave_guilds_they_are_in_and_never_fight_their_own_guild():
    world = World("r1", 5, 40)
    guild_of = {}
    for _ in range(2000):
        player = world.players[random.Random(len(guild_of)).randrange(40)]
        action = world.next_action(player, random.Random(player.actions))
        if action.event_type == "join_guild":
            assert guild_of.get(player.player_id) is None
            guild_of[player.player_id] = action.guild
        elif action.event_type == "leave_guild":
            assert guild_of.pop(player.player_id) == action.guild
        elif action.event_type in ("declare_war", "declare_peace"):
            assert action.guild == guild_of[player.player_id]
            assert action.payload["target_guild"] in GUILDS and action.payload["target_guild"] != action.guild


def test_idempotency_keys_are_unique_within_a_run():
    _, actions = plan(seed=1)
    keys = [key for _, _, key, _ in actions]
    assert len(keys) == len(set(keys))


def test_legacy_clients_use_v1_for_actions_the_old_routes_lack():
    world = World("r1", 1, 60)
    legacy = next(p for p in world.players if p.client == "legacy")
    rng = random.Random(0)
    kinds = {routes.transport_for(legacy, world.next_action(legacy, rng)) for _ in range(300)}
    assert kinds == {"legacy", "v1"}


def test_a_flag_wins_over_the_environment_which_wins_over_the_default(tmp_path):
    env = {"QUESTLINE_LOADGEN_PLAYERS": "7", "QUESTLINE_LOADGEN_RATE": "12.5"}
    s = settings_module.load(["--players", "9"], env)
    assert (s.players, s.rate, s.concurrency) == (9, 12.5, 32)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"QUESTLINE_LOADGEN_RATE": "fast"},
            "QUESTLINE_LOADGEN_RATE='fast' is not a number (expected 0..1000000 events/s)",
        ),
        (
            {"QUESTLINE_LOADGEN_PLAYERS": "0"},
            "QUESTLINE_LOADGEN_PLAYERS='0' is out of range (expected 1..1000000 players)",
        ),
        (
            {"QUESTLINE_LOADGEN_SEED": "-1"},
            "QUESTLINE_LOADGEN_SEED='-1' is out of range (expected 0..9223372036854775808)",
        ),
        (
            {"QUESTLINE_API_URL": "localhost:8000"},
            "QUESTLINE_API_URL='localhost:8000' is not an http(s) URL (expected http://host:port)",
        ),
        ({"QUESTLINE_LOADGEN_RUN_ID": "a-b"}, "QUESTLINE_LOADGEN_RUN_ID='a-b' must be 1-24 letters or digits"),
        (
            {"QUESTLINE_LOADGEN_PROGRESS": "maybe"},
            "QUESTLINE_LOADGEN_PROGRESS='maybe' is not a boolean (expected true or false)",
        ),
    ],
)
def test_a_bad_setting_is_refused_naming_the_variable_the_value_and_the_range(env, message):
    with pytest.raises(settings_module.SettingsError) as error:
        settings_module.load([], env)
    assert str(error.value) == message


def test_a_bad_flag_is_refused_naming_the_flag():
    with pytest.raises(settings_module.SettingsError) as error:
        settings_module.load(["--max-batch", "0"], {})
    assert str(error.value) == "--max-batch='0' is out of range (expected 1..1000 events)"


def test_the_ground_truth_goes_to_the_run_directory_under_the_artifacts_dir(tmp_path):
    s = settings_module.load([], {"QUESTLINE_ARTIFACTS_DIR": str(tmp_path), "QUESTLINE_LOADGEN_RUN_ID": "abc"})
    assert s.ground_truth_path == tmp_path / "abc" / "ground-truth.json"
