"""The main job: players -> API -> Kafka -> Spark -> HDFS/Hive -> Trino, then count every event.

`questline-demo` (`make demo`) drives the packages of the pipeline through their public functions
only: the local stack (questline_stack), the simulator (questline_loadgen), the report and the
ground-truth accounting (questline_analytics), and the background processes of the devkit.
The steps are in driver.py.
"""
