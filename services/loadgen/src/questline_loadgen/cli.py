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

from questline_loadgen import settings as settings_module
from questline_loadgen.display import run_and_summarise


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
