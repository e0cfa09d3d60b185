"""What every entrypoint shares: logging, settings errors, and the tables being in place."""

import dataclasses
import logging
import sys
from collections.abc import Callable

from pyspark.sql import SparkSession

from questline_spark.catalog import Catalog, PartitionRegistry
from questline_spark.settings import Settings, SettingsError
from questline_spark.sink import Warehouse
from questline_spark.tables import TableSpec, table_specs

log = logging.getLogger("questline_spark")


def run(main: Callable[[], None]) -> None:
    """Run a job's main: a settings error is one line and exit code 2, a failure exit code 1."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        main()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except Exception:
        # Non-zero so the controller restarts the driver, which resumes from its checkpoint.
        log.exception("job failed")
        sys.exit(1)


@dataclasses.dataclass
class Tables:
    specs: dict[str, TableSpec]
    catalog: Catalog
    warehouse: Warehouse
    registry: PartitionRegistry


def ensure_tables(spark: SparkSession, settings: Settings) -> Tables:
    """Create the database, table directories and tables if missing; register existing partitions.

    Idempotent and never touches data: CREATE ... IF NOT EXISTS on external
    locations, then the partition directories found on HDFS are added.
    """
    specs = table_specs()
    catalog = Catalog(settings)
    warehouse = Warehouse(spark, settings.warehouse_dir, settings.staging_dir)
    warehouse.ensure_dir(settings.warehouse_dir)
    catalog.ensure_schema(settings.warehouse_dir)
    for spec in specs.values():
        warehouse.ensure_dir(warehouse.table_dir(spec.name))
        catalog.ensure_table(spec, warehouse.table_dir(spec.name))
        catalog.add_new_partitions(spec)
    log.info("tables ready in %s.%s: %s", settings.trino_catalog, settings.database, ", ".join(specs))
    return Tables(specs, catalog, warehouse, PartitionRegistry(catalog, specs))
