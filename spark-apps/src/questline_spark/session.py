"""The SparkSession every job uses: small, UTC, Parquet as Trino reads it best."""

from pyspark.sql import SparkSession

from questline_spark.settings import Settings


def spark_session(app_name: str, settings: Settings, *, kafka: bool = True) -> SparkSession:
    builder = (
        SparkSession.builder.appName(app_name)
        .master(settings.spark_master)
        .config("spark.driver.memory", settings.driver_memory)
        .config("spark.sql.shuffle.partitions", str(settings.shuffle_partitions))
        # Dates of partitions and timestamps are UTC whatever the machine's zone.
        .config("spark.sql.session.timeZone", "UTC")
        # Trino and Hive read TIMESTAMP_MICROS without the INT96 time-zone guesswork.
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        # Job writes go to a staging directory; no _SUCCESS marker files in tables.
        .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
        # The validation compiled from the event schema makes one large generated method
        # (11,855 bytes); HotSpot never JIT-compiles a method over 8,000 bytes of bytecode,
        # so it ran interpreted. Above this size Spark generates per-expression code
        # instead, which is compiled: parsing and validation alone 58,000 -> 77,000-80,000
        # records/s (2026-11-28, local[2]).
        .config("spark.sql.codegen.hugeMethodLimit", "8000")
        # Deduplication state (every event_id of the window) lives in RocksDB: the
        # default in-memory store copies its whole map on every micro-batch, which
        # cost seconds per batch once it held a million ids. Changelog checkpointing
        # uploads only each batch's changes. Fixed per checkpoint at its first run.
        .config(
            "spark.sql.streaming.stateStore.providerClass",
            "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider",
        )
        .config("spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled", "true")
        # Counting the ids held makes every write to the store read the key first, only
        # for the progress metric numRowsTotal: 25 % of the deduplication's task time
        # (3.1-3.7 s -> 2.3-2.6 s per 250,000-record batch, 2026-11-28). The progress log
        # reports the ids added per batch instead.
        .config("spark.sql.streaming.stateStore.rocksdb.trackTotalNumberOfRows", "false")
        # Closing an HDFS file asks the NameNode to complete it; when the DataNode's
        # block report has not arrived yet, the client sleeps 400 ms before asking again.
        # Every micro-batch closes a dozen files (commit log, offsets, state changelogs,
        # Parquet), so that sleep cost about 2 s per batch. Retry sooner, and more
        # often, for the same total patience (~10 s instead of ~6 s).
        .config("spark.hadoop.dfs.client.block.write.locateFollowingBlock.initial.delay.ms", "20")
        .config("spark.hadoop.dfs.client.block.write.locateFollowingBlock.retries", "10")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # No extra empty micro-batch just to advance the dedup watermark: it would cost a
        # whole batch of latency after every real one; state is evicted with the next data.
        .config("spark.sql.streaming.noDataMicroBatches.enabled", "false")
    )
    if kafka and settings.spark_jars:
        builder = builder.config("spark.jars", ",".join(settings.spark_jars))
    if settings.hdfs_uri.startswith("hdfs:"):
        builder = builder.config("spark.hadoop.fs.defaultFS", settings.hdfs_uri)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
