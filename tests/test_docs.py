"""Docs that are checked: every table and column, every command and config key is documented."""

from __future__ import annotations

from pathlib import Path

from notifications.config import AlertSettings, Digest, EmailChannel, SlackChannel, Subscription
from store.db import open_db
from tracker.cli import cli
from tracker.config import Config, Defaults, LineageEntry, SourceConfig

ROOT = Path(__file__).resolve().parents[1]


def test_every_table_and_column_is_in_schema_md(tmp_path):
    doc = (ROOT / "docs" / "schema.md").read_text()
    db = open_db(tmp_path / "s.db")
    for table in db.table_names():
        if table.startswith("latest_texts_fts_"):
            continue  # FTS5's own shadow tables
        assert f"`{table}`" in doc, table
        if table == "latest_texts_fts":
            continue
        for column in db[table].columns:
            assert f"`{column.name}`" in doc, f"{table}.{column.name}"


def test_every_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for name in cli.commands:
        assert f"regwatch {name}" in readme, name


def test_every_config_key_is_in_config_md():
    doc = (ROOT / "docs" / "config.md").read_text()
    for model in (Config, Defaults, SourceConfig, LineageEntry, EmailChannel, SlackChannel, Subscription,
                  Digest, AlertSettings):
        for key, field in model.model_fields.items():
            if field.exclude:
                continue
            assert f"`{field.alias or key}`" in doc, f"{model.__name__}.{key}"
