"""questline-loadgen: simulate players over the game API and write the ground truth.

  questline-loadgen --players 500 --rate 300 --duration 60
  QUESTLINE_API_URL=http://127.0.0.1:8000 questline-loadgen --seed 7

Ctrl-C stops cleanly (in-flight requests finish, the ground truth is written);
a second Ctrl-C stops at once. Exit status 0 when every sent event was
acknowledged, 2 when some were rejected or their outcome is unknown.
"""

import sys
from collections.abc import Sequence

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from questline_loadgen import settings as settings_module
from questline_loadgen.ground_truth import GroundTruth
from questline_loadgen.simulator import Simulator, run


def progress_display(console: Console, duration: float):
    """A rich progress bar over the run's duration, and the callback that updates it."""
    progress = Progress(
        TextColumn("[bold]simulating"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[counts]}"),
        console=console,
        transient=False,
    )
    task = progress.add_task("players", total=duration, counts="")

    def update(sim: Simulator) -> None:
        t = sim.truth
        rate = t.total_acknowledged / sim.elapsed if sim.elapsed > 0 else 0
        counts = f"sent {t.total_sent:,}  acked {t.total_acknowledged:,}  ({rate:,.0f}/s)  retries {t.retries:,}"
        failed = sum(t.rejected.values()) + len(t.unknown_ids)
        if failed:
            counts += f"  [red]failed {failed:,}"
        progress.update(task, completed=min(sim.elapsed, duration), counts=counts)

    return progress, update


def run_and_summarise(settings, console: Console) -> GroundTruth:
    """Run the simulator (with a progress bar when asked) and print its summary."""
    if settings.progress:
        progress, update = progress_display(console, settings.duration)
        with progress:
            truth = run(settings, update)
    else:
        truth = run(settings)
    console.print(summary_table(truth))
    console.print(f"ground truth: {settings.ground_truth_path}")
    return truth


def summary_table(truth: GroundTruth) -> Table:
    data = truth.to_dict()
    table = Table(title=f"run {truth.run_id}: events by type")
    for column in ("event type", "sent", "acknowledged", "rejected", "unknown"):
        table.add_column(column, justify="left" if column == "event type" else "right")
    for event_type, row in data["by_event_type"].items():
        table.add_row(event_type, *(f"{row[k]:,}" for k in ("sent", "acknowledged", "rejected", "unknown")))
    totals = data["totals"]
    table.add_row(
        "[bold]total",
        *(f"[bold]{totals[k]:,}" for k in ("sent", "acknowledged", "rejected", "unknown")),
        end_section=True,
    )
    return table


def main(argv: Sequence[str] | None = None) -> int:
    console = Console(stderr=True)
    try:
        settings = settings_module.load(sys.argv[1:] if argv is None else argv)
    except settings_module.SettingsError as exc:
        console.print(f"questline-loadgen: {exc}")
        return 1
    console.print(
        f"run [bold]{settings.run_id}[/]: {settings.players:,} players, {settings.rate:g} events/s, "
        f"{settings.duration:g}s, concurrency {settings.concurrency}, seed {settings.seed} -> {settings.api_url}"
    )
    truth = run_and_summarise(settings, console)
    return 0 if truth.total_acknowledged == truth.total_sent else 2


if __name__ == "__main__":
    sys.exit(main())
