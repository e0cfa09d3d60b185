"""The questline player simulator: seeded players over the game API, and the ground
truth of what it sent and what the API acknowledged (see ground_truth.py).

For other programs: `settings.load(argv, env)` builds the settings from simulator flags, and
`run_and_summarise(settings, console)` runs it with a progress bar and prints the summary."""

from questline_loadgen.display import run_and_summarise

__all__ = ["run_and_summarise"]
