"""create_tables: create the questline database and every table, then register partitions.

Safe to run any number of times, before or after data exists: everything is
CREATE ... IF NOT EXISTS on external locations, and partition directories
already in HDFS are added to the metastore (nothing is ever dropped).
"""

import argparse

from questline_spark import settings as settings_module
from questline_spark.runtime import ensure_tables, log, run
from questline_spark.session import spark_session


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="create-tables",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Settings: QUESTLINE_HDFS_URI, QUESTLINE_TRINO_URL, QUESTLINE_DATABASE, QUESTLINE_WAREHOUSE_DIR "
        "(see docs/spark.md).",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    parse_args(argv)

    def job() -> None:
        settings = settings_module.load()
        spark = spark_session("create_tables", settings, kafka=False)
        tables = ensure_tables(spark, settings)
        for name, values in tables.registry.known.items():
            log.info("%s: %d partition(s)", name, len(values))
        spark.stop()

    run(job)


if __name__ == "__main__":
    main()
