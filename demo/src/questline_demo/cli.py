"""questline-demo: the whole pipeline on the local stack, proven by counting (`make demo`).

  questline-demo [simulator flags]   stack up, tables, API + streaming job, players, report, accounting
  questline-demo --stop              stop the API and the streaming job a demo left running

Every other flag goes to the simulator (questline-loadgen --help lists them), e.g.
`questline-demo --duration 20 --players 500 --rate 300`. Exit status 0 only when every
acknowledged event is in the tables exactly once.
"""

import sys
from collections.abc import Sequence

from rich.console import Console

from questline_demo import driver


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return 0
    if "--stop" in argv:
        return driver.stop(Console())
    return driver.main(argv)


if __name__ == "__main__":
    sys.exit(main())
