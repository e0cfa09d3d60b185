"""Helpers every questline dev tool shares: the version table, env readers, processes, downloads."""
