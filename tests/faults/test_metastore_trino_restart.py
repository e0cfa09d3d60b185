"""Scenario 3: the Hive metastore and Trino are SIGKILLed and restarted under load.

While one is down, queries and the table job fail with an error that names the problem;
after `questline-stack up` they answer again, and no acknowledged event is lost or doubled.
"""

import re
import subprocess
import time

import pytest
import trino
from faultlib import BIN, Simulation, assert_exactly_once, record_row, settle, wait_for

pytestmark = pytest.mark.timeout(3600)

SIZES = [
    pytest.param({"players": 30, "rate": 20, "duration": 45, "table_job": False}, marks=pytest.mark.stack, id="short"),
    pytest.param({"players": 200, "rate": 80, "duration": 300, "table_job": True}, marks=pytest.mark.faults, id="long"),
]
QUERY = "SELECT count(*) FROM events"


def _query_error(stack) -> str | None:
    """None when the query answers, else the error a client sees."""
    try:
        stack.trino().cursor().execute(QUERY).fetchall()
    except (trino.exceptions.TrinoQueryError, trino.exceptions.TrinoExternalError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    except Exception as exc:  # the client's own connection errors (requests) while Trino is down
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


def _table_job(stack) -> subprocess.CompletedProcess:
    env = {**stack.client_env, "QUESTLINE_SPARK_DRIVER_MEMORY": "512m"}
    return subprocess.run([BIN / "create-tables"], env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize("size", SIZES)
def test_metastore_and_trino_restarts_fail_clearly_then_recover_with_no_data_lost(
    faults_stack, run_id, tmp_path, size, results_file
):
    stack = faults_stack
    simulation = Simulation(
        stack.api_url, tmp_path, run_id, players=size["players"], rate=size["rate"], duration=size["duration"],
        concurrency=16, max_retries=20,
    )  # fmt: skip
    time.sleep(size["duration"] / 6)
    errors, recovered, job_outcomes = {}, {}, {}
    for component in ("metastore", "trino"):
        stack.kill(component)
        errors[component] = wait_for(
            lambda: _query_error(stack) is not None, 60, f"queries to fail without {component}"
        )
        errors[component] = _query_error(stack)
        if size["table_job"]:
            job = _table_job(stack)
            errors_logged = [line for line in job.stderr.splitlines() if re.search(r"\w(Error|Exception): ", line)]
            job_outcomes[component] = (job.returncode, errors_logged[-1:])
            assert job.returncode != 0, f"the table job succeeded without {component}"
        time.sleep(5)
        stack.up(component)
        recovered[component] = wait_for(lambda: _query_error(stack) is None, 300, f"queries after {component} is back")
    truth = simulation.finish(timeout=size["duration"] + 900)
    result = settle(stack, truth)

    figures = {
        "scenario": f"Hive metastore SIGKILL + restart, then Trino SIGKILL + restart ({size})",
        "load": f"{size['rate']} events/s target, {size['players']} players, {size['duration']}s",
        "faults": "1 metastore SIGKILL, 1 Trino SIGKILL",
        "acknowledged": result.acknowledged,
        "in_tables": result.in_tables,
        "missing": len(result.missing),
        "duplicated": len(result.duplicated),
        "notes": f"errors while down {errors}, queries answer again after {recovered} s, "
        f"table job while down {job_outcomes}, stream restarts so far {stack.supervisor.restarts}",
    }
    print(figures)
    record_row(results_file, figures)
    for component, error in errors.items():
        assert error, f"no error while {component} was down"
    assert_exactly_once(result)
