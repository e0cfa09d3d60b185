"""The local stack: the same servers the charts deploy, run as local processes."""
