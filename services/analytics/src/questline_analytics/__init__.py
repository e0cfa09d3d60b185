"""questline analytics: one SQL file per business question (sql/), run through
Trino; the `questline` CLI prints them, writes an HTML report, checks a
simulator run's ground truth against the tables, and drives `make demo`."""
