"""Alerts: config of channels and subscriptions."""

from __future__ import annotations

import pytest

from tracker.config import ConfigError, parse_config

# --- config ---------------------------------------------------------------------------------

def _cfg_text(port: int, *, subs: str | None = None, extra: str = "") -> str:
    subs = subs or "  - {name: team, channels: [email]}\n"
    return (f"database: h.db\nalerts: {{max_attempts: 3, backoff: 60}}\n{extra}channels:\n"
            f"  email: {{host: 127.0.0.1, port: {port}, security: none, username: alerts,\n"
            f"          password_env: RW_TEST_SMTP_PASSWORD, from: regwatch@example.eu, to: [team@example.eu]}}\n"
            "  slack: {webhook_url_env: RW_TEST_SLACK}\n"
            "  ops: {channel: email, to: [ops@example.eu]}\n"
            f"subscriptions:\n{subs}")


def test_channels_and_subscriptions_are_validated():
    cfg = parse_config(_cfg_text(2525))
    assert cfg.channels["ops"].host == "127.0.0.1" and cfg.channels["ops"].to == ["ops@example.eu"]
    assert cfg.channels["slack"].channel == "slack"
    sub = cfg.subscriptions[0]
    assert (sub.min_class, sub.min_significance, sub.mode, sub.documents, sub.obligations) == (
        "substantive", 0.0, "immediate", None, None)

    def error(text: str) -> str:
        with pytest.raises(ConfigError) as exc:
            parse_config(text)
        return str(exc.value)

    msg = error(_cfg_text(2525, subs="  - {name: t, channels: [email, pager]}\n"))
    assert "unknown channel(s) pager" in msg
    msg = error(_cfg_text(2525, subs="  - {name: t, channels: [email], mode: {digest: daily, at: '08:00'}}\n"))
    assert "digests are not supported yet" in msg and ":9:" in msg
    msg = error(_cfg_text(2525, subs="  - {name: t, channels: [email], obligations: [aia-99]}\n"))
    assert "unknown obligation(s) aia-99" in msg
    msg = error(_cfg_text(2525, subs="  - {name: t, channels: [email], min_clas: editorial}\n"))
    assert "subscriptions[0].min_clas: unknown key" in msg
    msg = error("channels:\n  email: {host: h, from: a@b, to: [c@d], password: hunter2}\n")
    assert "password_env" in msg and ":2:" in msg
    msg = error("channels:\n  pager: {host: h}\n")
    assert "channel: email" in msg
    msg = error("channels:\n  ops: {channel: email, to: [a@b]}\n")
    assert "missing host, from" in msg
