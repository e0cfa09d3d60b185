"""compute-kpis without servers: which days a run computes, its settings, the SQL it would run."""

import datetime as dt

import pytest

from questline_spark import settings as settings_module
from questline_spark.compute_kpis import parse_args, selected_days
from questline_spark.kpis import KPI_TABLES, day_statements

TODAY = dt.date(2026, 12, 1)


def test_without_a_selection_the_lookback_ends_today():
    assert selected_days(parse_args([]), 2, TODAY) == [dt.date(2026, 11, 30), TODAY]


def test_a_range_runs_in_date_order_and_defaults_to_today():
    assert selected_days(parse_args(["--from", "2026-11-29"]), 2, TODAY) == [
        dt.date(2026, 11, 29),
        dt.date(2026, 11, 30),
        TODAY,
    ]
    assert selected_days(parse_args(["--day", "2026-11-03"]), 2, TODAY) == [dt.date(2026, 11, 3)]


@pytest.mark.parametrize(
    "argv", [["--day", "2026-11-01", "--from", "2026-11-01"], ["--to", "2026-11-01"], ["--day", "11/01/2026"]]
)
def test_contradictory_or_malformed_selections_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2


def test_a_range_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="before --from"):
        selected_days(parse_args(["--from", "2026-11-03", "--to", "2026-11-01"]), 2, TODAY)


def test_a_session_gap_out_of_range_names_the_variable_and_the_range(monkeypatch):
    monkeypatch.setenv("QUESTLINE_TRINO_URL", "http://trino:8080")
    monkeypatch.setenv("QUESTLINE_KPI_SESSION_GAP_MINUTES", "0")
    with pytest.raises(settings_module.SettingsError, match="QUESTLINE_KPI_SESSION_GAP_MINUTES"):
        settings_module.load_kpi()


def test_every_statement_fills_one_day_of_its_table_in_the_documented_order():
    statements = day_statements()
    assert [table.name for table, _ in statements] == [t.name for t in KPI_TABLES]
    values = {"day": "2026-11-02", "previous_day": "2026-11-01", "next_day": "2026-11-03", "gap_minutes": 30}
    for table, template in statements:
        sql = template.format(**values)
        code = [line for line in sql.splitlines() if not line.startswith("--")]
        assert code[0] == f"INSERT INTO {table.name}", table.name
        assert f"DATE '2026-11-02' AS {table.partition_column}" in sql, table.name
        assert f"partitioned_by = ARRAY['{table.partition_column}']" in table.create_sql()
