"""The simulator run as a person watches it: a progress bar over the run, then the summary table.
Used by questline-loadgen and by every driver that runs the simulator (`make demo`)."""

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from questline_loadgen.ground_truth import GroundTruth
from questline_loadgen.settings import Settings
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


def run_and_summarise(settings: Settings, console: Console) -> GroundTruth:
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
