"""Spark jobs of questline: Kafka topic `events` -> validated, partitioned Parquet tables in HDFS.

Every job goes through the same transform library (`transforms`), so the streaming
job, the batch job and the tests agree on what a valid event is and where it lands.
"""
