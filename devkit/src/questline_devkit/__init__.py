"""Helpers every questline dev tool shares: the version table, processes, downloads.

Settings are read with questline_settings, the readers every component (and every image) shares."""
