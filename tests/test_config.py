"""config.yaml: the shipped file is valid, errors name the field and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.config import ConfigError, load_config, parse_config, parse_schedule

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_config_is_valid_and_tracks_the_code_and_the_act():
    cfg = load_config(ROOT / "config.yaml")
    urls = " ".join(s.url for s in cfg.sources)
    assert "ai-code-practice" in urls and "CELEX:32024R1689" in urls and "118119" in urls
    assert any(s.follow for s in cfg.sources)  # at least one listing page
    assert cfg.database_path == (ROOT / "regwatch.db").resolve()


def test_errors_name_field_and_line(tmp_path):
    text = (
        "database: x.db\n"
        "defaults:\n"
        "  delay: -1\n"
        "sources:\n"
        "  - name: ok\n"
        "    url: https://example.eu/a\n"
        "  - name: bad\n"
        "    url: ftp://example.eu/b\n"
        "    selectr: main\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text, tmp_path / "config.yaml")
    msg = str(info.value)
    assert "config.yaml:3: defaults.delay" in msg
    assert "config.yaml:8: sources[1].url" in msg and "http(s)" in msg
    assert "config.yaml:9: sources[1].selectr: unknown key" in msg


@pytest.mark.parametrize(
    "text, expected",
    [
        ("sources:\n  - {name: a, url: 'https://x.eu'}\n  - {name: a, url: 'https://y.eu'}\n", "duplicate source name 'a'"),
        ("sources:\n  - {name: a, url: 'https://x.eu', schedule: 'every blue moon'}\n", ":2: sources[0].schedule"),
        ("sources:\n  - {name: a, url: 'https://x.eu', selector: 'main >>'}\n", "invalid CSS selector"),
        ("sources: [\n", "invalid YAML"),
        ("- just a list\n", "must be a mapping"),
        ("sources:\n  - {name: 'a b', url: 'https://x.eu'}\n", "sources[0].name"),
    ],
)
def test_invalid_configs_are_refused_clearly(text, expected):
    with pytest.raises(ConfigError, match=None) as info:
        parse_config(text, Path("c.yaml"))
    assert expected in str(info.value)


def test_schedules():
    assert parse_schedule("every 6h") == {"trigger": "interval", "seconds": 21600}
    assert parse_schedule("every 30 m") == {"trigger": "interval", "seconds": 1800}
    assert parse_schedule("0 7 * * 1-5")["trigger"] == "cron"
    with pytest.raises(ValueError):
        parse_schedule("0 25 * * *")


def test_sources_inherit_defaults_and_document_defaults_to_name():
    cfg = parse_config(
        "defaults: {timeout: 5, delay: 0.5}\n"
        "sources:\n"
        "  - {name: draft, url: 'https://x.eu/d.pdf', document: code, label: Third draft}\n"
        "  - {name: final, url: 'https://x.eu/f', document: code, timeout: 9}\n"
        "  - {name: news, url: 'https://x.eu/n', follow: ['https://x.eu/n/*']}\n"
    )
    draft, final, news = cfg.crawl_sources()
    assert (draft.document, final.document, news.document) == ("code", "code", "news")
    assert (draft.timeout, final.timeout, draft.delay) == (5, 9, 0.5)
    assert news.kind == "listing" and draft.kind == "page"
    with pytest.raises(ConfigError, match="unknown source"):
        cfg.crawl_sources(["nope"])


def test_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "none.yaml")
