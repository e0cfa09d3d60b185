"""compute-kpis: the derived KPI tables (sessions, active players, retention, revenue, funnel,
guilds) of the days asked for, each day's partitions replaced and nothing else touched.

Default: today and yesterday (QUESTLINE_KPI_LOOKBACK_DAYS, UTC days of server time), which
keeps today fresh, completes yesterday's sessions over midnight and absorbs late events.
A re-run of a day over the same events changes nothing. Days run in date order: later
days read earlier ones (first seen, funnel steps, guild members), so a repair of an old
day should run --from that day --to today. The SQL runs in Trino; definitions are in
docs/analytics.md.
"""

import argparse
import datetime as dt

from questline_spark import kpis as kpis_module
from questline_spark import settings as settings_module
from questline_spark.kpis import KpiJob, days_between
from questline_spark.runtime import log, run


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (expected YYYY-MM-DD)") from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="compute-kpis",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Settings: QUESTLINE_TRINO_URL, QUESTLINE_TRINO_USER (pipeline), QUESTLINE_TRINO_PASSWORD_FILE, "
        "QUESTLINE_TRINO_CA_FILE, QUESTLINE_TRINO_CATALOG, QUESTLINE_DATABASE, "
        "QUESTLINE_KPI_SESSION_GAP_MINUTES (30), QUESTLINE_KPI_LOOKBACK_DAYS (2).",
    )
    parser.add_argument("--day", type=_date, help="compute this UTC day only (YYYY-MM-DD)")
    parser.add_argument("--from", dest="first", type=_date, help="first day of a range (with --to)")
    parser.add_argument("--to", dest="last", type=_date, help="last day of a range (default with --from: today)")
    args = parser.parse_args(argv)
    if args.day and (args.first or args.last):
        parser.error("--day and --from/--to exclude each other")
    if args.last and not args.first:
        parser.error("--to needs --from")
    return args


def selected_days(args: argparse.Namespace, lookback_days: int, today: dt.date) -> list[dt.date]:
    if args.day:
        return [args.day]
    if args.first:
        return days_between(args.first, args.last or today)
    return days_between(today - dt.timedelta(days=lookback_days - 1), today)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)

    def job() -> None:
        settings = settings_module.load_kpi()
        days = selected_days(args, settings.lookback_days, dt.datetime.now(dt.UTC).date())
        connection = settings.trino_login.connect(
            settings.trino_url,
            catalog=settings.trino_catalog,
            schema=settings.database,
            session_properties=kpis_module.session_properties(settings.trino_catalog),
            request_timeout=600,
        )
        kpis = KpiJob(connection, settings.session_gap_minutes)
        kpis.ensure_tables()
        for day in days:
            log.info(kpis.compute_day(day).line())
        connection.close()

    run(job)


if __name__ == "__main__":
    main()
