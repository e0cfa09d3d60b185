"""The report: each question's answer as a terminal table, and one HTML page with charts.

Charts are matplotlib PNGs embedded in the page (base64), so report.html is a
single file that opens anywhere without a server.
"""

import base64
import datetime as dt
import decimal
import functools
import html
import io
import unicodedata
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: render to PNG only
import matplotlib.pyplot as plt
from matplotlib import font_manager
from rich.console import Console
from rich.table import Table
from rich.text import Text

from questline_analytics.queries import Result

# Beyond this many rows a terminal table shows the first ones and says how many it left out.
TERMINAL_ROWS = 15


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | decimal.Decimal):
        return f"{value:,.1f}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def visible(text: str) -> str:
    """`text` with every control character shown instead of obeyed: C0 controls as their
    control pictures (a newline would reshape a label, an escape rewrite the terminal), other
    controls and lone surrogates (which neither the font engine nor UTF-8 accepts) as U+FFFD."""
    out = []
    for char in text:
        code = ord(char)
        if code < 0x20:
            out.append(chr(0x2400 + code))
        elif code == 0x7F:
            out.append("\u2421")
        elif unicodedata.category(char) in ("Cc", "Cs"):
            out.append("\ufffd")
        else:
            out.append(char)
    return "".join(out)


def terminal_table(result: Result) -> Table:
    table = Table(title=result.query.question, title_justify="left", title_style="bold")
    for i, column in enumerate(result.columns):
        numeric = any(isinstance(row[i], int | float | decimal.Decimal) for row in result.rows)
        table.add_column(column, justify="right" if numeric else "left")
    for row in result.rows[:TERMINAL_ROWS]:
        # Text, not markup: a name like "[/]" is data.
        table.add_row(*(Text(visible(cell(v))) for v in row))
    if not result.rows:
        table.caption = f"({result.note or 'no rows yet'})"
    elif len(result.rows) > TERMINAL_ROWS:
        table.caption = f"... {len(result.rows) - TERMINAL_ROWS:,} more rows in the HTML report"
    return table


def print_report(results: list[Result], console: Console) -> None:
    for result in results:
        if result.columns:
            console.print(terminal_table(result))
        else:  # a table without columns prints nothing, not even its caption
            console.print(Text(result.query.question, style="bold"))
            console.print(Text(f"({result.note or 'no rows yet'})"))
        console.print()


# ---------------------------------------------------------------- charts

# Names come from players: any code point at all. Each glyph is looked up in these fonts in
# order (matplotlib falls back per glyph); those the machine lacks are left out, since naming
# a missing family is itself a warning. matplotlib ships DejaVu Sans and Last Resort, which
# has a visible glyph (its Unicode block's sign) for every code point the others lack: emoji,
# private-use, unassigned, and CJK where no CJK font is installed.
FONT_FAMILIES = (
    "DejaVu Sans",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Noto Emoji",
    "Noto Sans Symbols 2",
    "Last Resort High-Efficiency",
)


@functools.cache
def chart_fonts() -> list[str]:
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return [family for family in FONT_FAMILIES if family in installed]


def _in_chart_fonts(chart: Callable[[Result], str]) -> Callable[[Result], str]:
    """Texts take their font when they are made: the whole chart is drawn in the fallback list."""

    @functools.wraps(chart)
    def drawn(result: Result) -> str:
        with plt.rc_context({"font.family": chart_fonts()}):
            return chart(result)

    return drawn


def chart_label(value) -> str:
    """A name as a chart draws it: `visible`, with `$` escaped so that no name is read as mathtext."""
    return visible(cell(value)).replace("$", r"\$")


def _column(result: Result, name: str) -> list:
    index = result.columns.index(name)
    return [row[index] for row in result.rows]


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


@_in_chart_fonts
def chart_items(result: Result) -> str:
    figure, axes = plt.subplots(figsize=(7, 3.5))
    axes.bar([chart_label(i) for i in _column(result, "item")], _column(result, "purchases"), color="#8c5a2b")
    axes.set_ylabel("purchases")
    axes.set_title("Purchases by item")
    return _png(figure)


@_in_chart_fonts
def chart_guild_sizes(result: Result) -> str:
    figure, axes = plt.subplots(figsize=(7, 3.5))
    guilds = sorted(set(_column(result, "guild_name")))
    if len(set(_column(result, "hour"))) < 2:
        # All within one hour (a short demo): the sizes now, as bars.
        latest = {row[0]: row[4] for row in result.rows}
        # By position: two names may look alike once drawn, and must not share a bar.
        axes.barh(range(len(guilds)), [latest[g] for g in guilds], color="#5a6b8c")
        axes.set_yticks(range(len(guilds)), labels=[chart_label(g) for g in guilds])
        axes.set_xlabel("members")
        axes.set_title("Guild sizes (joins - leaves)")
        return _png(figure)
    for guild in guilds:
        rows = [(row[1], row[4]) for row in result.rows if row[0] == guild]
        axes.step([r[0] for r in rows], [r[1] for r in rows], where="post", marker="o", label=chart_label(guild))
    axes.set_ylabel("members")
    axes.set_title("Guild sizes over time (joins - leaves)")
    axes.legend(fontsize="x-small", ncol=2)
    figure.autofmt_xdate()
    return _png(figure)


@_in_chart_fonts
def chart_events_per_hour(result: Result) -> str:
    figure, axes = plt.subplots(figsize=(7, 3.5))
    hours = _column(result, "hour")
    bottom = [0] * len(hours)
    for family in ("visits", "purchases", "joins", "declarations"):
        counts = _column(result, family)
        axes.bar(hours, counts, bottom=bottom, width=0.035, label=family)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.set_ylabel("events")
    axes.set_title("Events per hour by family (UTC)")
    axes.legend(fontsize="x-small")
    figure.autofmt_xdate()
    return _png(figure)


@_in_chart_fonts
def chart_active_players(result: Result) -> str:
    figure, axes = plt.subplots(figsize=(7, 3.5))
    days = _column(result, "day")
    for column, style in (("dau", "-o"), ("wau", "--"), ("mau", ":")):
        axes.plot(days, _column(result, column), style, label=column.upper())
    axes.set_ylabel("players")
    axes.set_ylim(bottom=0)
    axes.set_title("Active players per UTC day")
    axes.legend(fontsize="x-small")
    figure.autofmt_xdate()
    return _png(figure)


@_in_chart_fonts
def chart_retention(result: Result) -> str:
    """The triangle: a row per cohort, a column per day n, the share retained as colour."""
    columns = [c for c in result.columns if c.startswith("d") and c[1:].isdigit()]
    grid = [[row[result.columns.index(c)] for c in columns] for row in result.rows]
    values = [[float("nan") if v is None else float(v) for v in row] for row in grid]
    figure, axes = plt.subplots(figsize=(7, 0.6 + 0.32 * max(len(values), 3)))
    image = axes.imshow(values, cmap="YlOrBr", vmin=0, vmax=100, aspect="auto")
    axes.set_xticks(range(len(columns)), labels=[c.upper() for c in columns])
    cohorts = [f"{cell(row[0])} ({row[1]:,})" for row in result.rows]
    axes.set_yticks(range(len(cohorts)), labels=cohorts, fontsize="x-small")
    for y, row in enumerate(grid):
        for x, value in enumerate(row):
            if value is not None:
                axes.text(x, y, f"{value:.0f}", ha="center", va="center", fontsize="x-small")
    figure.colorbar(image, ax=axes, label="% of cohort")
    axes.set_title("Retention by first-seen cohort (players)")
    return _png(figure)


@_in_chart_fonts
def chart_funnel(result: Result) -> str:
    figure, axes = plt.subplots(figsize=(7, 3))
    steps = [s.replace("_", " ") for s in _column(result, "step")]
    players = _column(result, "players")
    axes.barh(range(len(steps)), players, color="#6b3e14")
    axes.set_yticks(range(len(steps)), labels=steps)
    axes.invert_yaxis()
    for y, (n, pct) in enumerate(zip(players, _column(result, "pct_of_previous"), strict=True)):
        axes.text(n, y, f" {n:,}" + (f" ({pct:.0f} %)" if pct is not None else ""), va="center", fontsize="small")
    axes.set_xlabel("players")
    axes.set_title("Funnel: first seen -> first purchase -> guild joined -> war declared")
    return _png(figure)


CHARTS: dict[str, Callable[[Result], str]] = {
    "most_popular_items": chart_items,
    "guild_sizes_over_time": chart_guild_sizes,
    "events_per_hour": chart_events_per_hour,
    "daily_kpis": chart_active_players,
    "retention": chart_retention,
    "funnel": chart_funnel,
}

# ---------------------------------------------------------------- HTML

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #2b2118; }
h1 { color: #6b3e14; } h2 { font-size: 1.05rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { border: 1px solid #d8c8b0; padding: 0.2rem 0.6rem; }
th { background: #f3e9d8; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.meta { color: #7a6a58; font-size: 0.85rem; } details { margin: 0.5rem 0; }
"""


def html_table(result: Result) -> str:
    if not result.rows:
        return f"<p class='meta'>({html.escape(result.note or 'no rows yet')})</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in result.columns)
    body = []
    for row in result.rows:
        cells = "".join(
            f"<td class='n'>{html.escape(visible(cell(v)))}</td>"
            if isinstance(v, int | float | decimal.Decimal)
            else f"<td>{html.escape(visible(cell(v)))}</td>"
            for v in row
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def html_report(results: list[Result], title: str, notes: list[str]) -> str:
    sections = []
    for result in results:
        chart = CHARTS.get(result.query.name)
        image = ""
        if chart and result.rows:
            image = f"<img alt='{html.escape(result.query.name)}' src='data:image/png;base64,{chart(result)}'>"
        sections.append(
            f"<section id='{result.query.name}'><h2>{html.escape(result.query.question)}</h2>{image}"
            f"{html_table(result)}<details><summary>SQL</summary><pre>{html.escape(result.query.sql)}</pre>"
            "</details></section>"
        )
    meta = "".join(f"<p class='meta'>{html.escape(n)}</p>" for n in notes)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{meta}{''.join(sections)}</body></html>\n"
    )


def write_html(results: list[Result], directory: Path, notes: list[str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "report.html"
    path.write_text(html_report(results, "questline report", notes), "utf-8")
    return path
