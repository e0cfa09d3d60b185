import datetime as dt

from questline_analytics import queries, report
from questline_analytics.accounting import Accounting
from questline_analytics.queries import Result


def result(name: str, columns: list[str], rows: list[tuple]) -> Result:
    return Result(queries.query_named(name), columns, rows)


def test_every_sql_file_states_its_question():
    loaded = queries.load_queries()
    assert len(loaded) >= 9
    assert all(q.question.endswith(("?", ")", ".")) and len(q.question) > 20 for q in loaded)


def test_the_html_report_embeds_a_chart_and_escapes_values(tmp_path):
    hour = dt.datetime(2026, 1, 1, 10)
    item_columns = ["item", "purchases", "share_pct", "favourite_kind", "n"]
    hour_columns = ["hour", "events", "visits", "purchases", "joins", "declarations", "players"]
    results = [
        result("most_popular_items", item_columns, [("<sword>", 3, 1.0, "k", 1)]),
        result("events_per_hour", hour_columns, [(hour, 4, 1, 1, 1, 1, 2)]),
        result("quarantine_by_reason", ["reason", "records", "first_seen", "last_seen"], []),
    ]
    page = report.write_html(results, tmp_path, ["run r1"]).read_text()
    assert page.count("src='data:image/png;base64,") == 2
    assert "&lt;sword&gt;" in page and "<sword>" not in page
    assert "(no rows yet)" in page


def test_the_accounting_line_reads_like_the_demo_promises():
    accounting = Accounting("r1", 12345, 12345, [], {}, [], 0, {})
    assert accounting.line() == "12,345 events acknowledged, 12,345 in tables, 0 missing, 0 duplicated"
    assert accounting.ok
    broken = Accounting("r1", 3, 3, ["e1"], {"e2": 2}, [], 0, {})
    assert not broken.ok and len(broken.problems()) == 2
