import datetime as dt
import io
import logging
import warnings

from rich.console import Console

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


# Names players may give: private-use (as a fuzzer's accepted events once put in the
# `questline` tables), emoji sequences, CJK, controls, bidi and zero-width marks, a lone
# surrogate, mathtext and rich markup.
ANY_NAMES = [
    ",\U000fc2b3\U000709f8\U00100000",
    "🗡️🛡️🐎 👨‍👩‍👧",
    "公会 ギルド 길드",
    "nul\x00bell\x07esc\x1b[2J\x7f\x85",
    "tab\tnew\nline",
    "\u202eevil\u202c zero\u200bwidth\ufeff",
    "e\u0301" * 20,
    "\ud800lone",
    "a$b$c",
    "$\\frac{$",
    "[/] [bold red]markup",
    "\U000e0001\U0010ffff\uffff",
]


def _draw_without_warnings(results, tmp_path, caplog) -> str:
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.INFO):
        warnings.simplefilter("always")
        page = report.write_html(results, tmp_path, ["any names"]).read_text()
    assert [str(w.message) for w in caught] == []
    assert [r.getMessage() for r in caplog.records if r.name.startswith("matplotlib")] == []
    return page


def test_any_name_is_drawn_in_every_chart_without_a_font_warning(tmp_path, caplog):
    hour = dt.datetime(2026, 1, 1, 10)
    guild_columns = ["guild_name", "hour", "joins", "leaves", "members"]
    one_hour = [(name, hour, 1, 0, i + 1) for i, name in enumerate(ANY_NAMES)]
    over_time = one_hour + [(name, hour + dt.timedelta(hours=1), 1, 0, i + 2) for i, name in enumerate(ANY_NAMES)]
    item_columns = ["item", "purchases", "share_pct", "favourite_kind", "n"]
    for guild_rows in (one_hour, over_time):  # bars (a short demo) and steps over time
        results = [
            result("guild_sizes_over_time", guild_columns, guild_rows),
            result("most_popular_items", item_columns, [(name, 1, 1.0, name, 1) for name in ANY_NAMES]),
        ]
        page = _draw_without_warnings(results, tmp_path, caplog)
        assert page.count("src='data:image/png;base64,") == 2


def test_the_font_list_holds_only_installed_fonts_and_ends_in_one_with_every_glyph():
    fonts = report.chart_fonts()
    assert fonts[0] == "DejaVu Sans" and fonts[-1] == "Last Resort High-Efficiency"
    assert set(fonts) <= set(report.FONT_FAMILIES)


def test_a_chart_label_shows_controls_and_escapes_mathtext():
    assert report.chart_label("a\tb\x00\x7f") == "a\u2409b\u2400\u2421"
    assert report.chart_label("\x85\ud800") == "\ufffd\ufffd"
    assert report.chart_label("$5 guild$") == r"\$5 guild\$"
    assert report.chart_label("公会 🗡️") == "公会 🗡️"


def test_the_terminal_report_prints_any_name_as_text():
    console = Console(file=io.StringIO(), width=200, color_system=None)
    columns = ["guild_name", "joins", "active_players", "last_join"]
    report.print_report([result("most_active_guilds", columns, [(name, 1, 1, None) for name in ANY_NAMES])], console)
    out = console.file.getvalue()
    assert "[/] [bold red]markup" in out
    assert "\x1b" not in out and "\x07" not in out


def test_the_kpi_sections_draw_active_players_a_retention_triangle_and_the_funnel(tmp_path):
    day = dt.date(2026, 11, 1)
    daily_columns = ["day", "dau", "wau", "mau", "stickiness_pct", "new_players", "sessions"]
    triangle_columns = ["cohort_date", "players", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d14", "d30"]
    funnel_columns = ["step_number", "step", "players", "pct_of_previous", "median_minutes_from_previous"]
    results = [
        result("daily_kpis", daily_columns, [(day, 2, 2, 2, 100.0, 2, 3), (dt.date(2026, 11, 2), 4, 5, 5, 80.0, 3, 5)]),
        result(
            "retention", triangle_columns, [(day, 2, 100.0, 50.0, *[None] * 7), (dt.date(2026, 11, 2), 3, *[None] * 9)]
        ),
        result("funnel", funnel_columns, [(1, "first_seen", 5, None, None), (2, "first_purchase", 3, 60.0, 12.5)]),
    ]
    page = report.write_html(results, tmp_path, []).read_text()
    assert page.count("src='data:image/png;base64,") == 3
    for name in ("daily_kpis", "retention", "funnel"):
        assert f"<img alt='{name}'" in page


def test_a_kpi_section_before_the_kpi_job_ever_ran_says_how_to_fill_it():
    missing = Result(queries.query_named("retention"), [], [], queries.KPI_TABLES_HINT)
    console = Console(file=io.StringIO(), width=200)
    report.print_report([missing], console)
    assert "make spark-kpi" in console.file.getvalue()
