"""The report reads the tables of the database and catalog the API and the Spark jobs are
told to use, by the same variable names."""

import pytest

from questline_analytics import settings as settings_module
from questline_events import DATABASE, TRINO_CATALOG


def test_the_report_reads_the_database_and_catalog_by_the_names_every_component_reads():
    default = settings_module.load({})
    assert (default.catalog, default.schema) == (TRINO_CATALOG, DATABASE)
    settings = settings_module.load({"QUESTLINE_DATABASE": "questline_alt", "QUESTLINE_TRINO_CATALOG": "lake"})
    assert (settings.catalog, settings.schema) == ("lake", "questline_alt")


def test_the_old_schema_variable_is_refused_with_the_name_to_use_instead():
    with pytest.raises(settings_module.SettingsError, match=r"QUESTLINE_TRINO_SCHEMA .*set QUESTLINE_DATABASE"):
        settings_module.load({"QUESTLINE_TRINO_SCHEMA": "questline_alt"})
