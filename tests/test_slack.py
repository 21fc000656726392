"""Slack alerts: Block Kit within Slack's limits, posted through slack_sdk to a real local
receiver (tests/conftest.py SlackReceiver) that checks each payload as Slack would and
answers scripted statuses: rate limits, outages, revoked webhooks, the bot-token API."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import SLACK_WEBHOOK_PATH, regwatch, slack_problems
from test_alerts import ACT, AMENDED, _alerts, _cfg_text, _changed_db, _free_port

from notifications.channels import slack
from notifications.channels.errors import ChannelError, PermanentError, RetryLater
from notifications.config import SlackChannel
from notifications.messages import Entry, Message, Part
from tracker.config import ConfigError, parse_config

HOOK_ENV = "RW_TEST_SLACK"  # the webhook variable of test_alerts._cfg_text's `slack` channel
TOKEN = "xoxb-rwtest-7f3a-secret-token"  # noqa: S105 - a test secret, looked for everywhere afterwards
SLACK_ONLY = "  - {name: team, channels: [slack]}\n"
EDITS = "~without undue delay~ *within 48 hours*"


def _texts(payload: dict) -> str:
    """Every text a Slack user sees in the payload's blocks, one per line."""
    out = []
    for b in payload["blocks"]:
        if "text" in b:
            out.append(b["text"]["text"])
        out += [e["text"] for e in b.get("elements", [])]
    return "\n".join(out)


def _next_attempt_in(row: dict, before: datetime) -> float:
    """Seconds from `before` to the alert's next attempt."""
    return (datetime.fromisoformat(row["next_attempt_at"]) - before).total_seconds()


@pytest.fixture
def hooked(tmp_path, monkeypatch, slack_hook) -> Path:
    """A config whose one subscription sends to the `slack` webhook (the local receiver),
    with a change of `act` and its one alert queued."""
    monkeypatch.setenv(HOOK_ENV, slack_hook.url())
    cfg = tmp_path / "config.yaml"
    cfg.write_text(_cfg_text(_free_port(), subs=SLACK_ONLY))
    _changed_db(cfg, [ACT, AMENDED])
    return cfg


# --- config ---------------------------------------------------------------------------------

def test_a_slack_channel_is_a_webhook_or_a_bot_token():
    def error(channel: str) -> str:
        with pytest.raises(ConfigError) as exc:
            parse_config(f"channels:\n  slack: {channel}\n")
        return str(exc.value)

    ch = parse_config("channels:\n  s: {channel: slack, token_env: T, channel_id: C1, api_url: 'http://h/api'}\n"
                      ).channels["s"]
    assert (ch.token_env, ch.channel_id, ch.api_url_or_default()) == ("T", "C1", "http://h/api/")
    assert "not both or neither" in error("{webhook_url_env: A, token_env: B, channel_id: C}")
    assert "not both or neither" in error("{timeout: 5}")
    assert "`token_env` needs `channel_id`" in error("{token_env: B}")
    assert "`channel_id`: only with `token_env`" in error("{webhook_url_env: A, channel_id: C}")
    assert "is not an http(s) URL" in error("{token_env: B, channel_id: C, api_url: 'ftp://x/'}")
    assert "token_env" in error("{token: xoxb-1, channel_id: C}")  # a secret in config.yaml
    assert "webhook_url_env" in error("{webhook_url: 'https://hooks.slack.com/x'}")


# --- Block Kit ------------------------------------------------------------------------------

def test_word_edits_render_as_escaped_mrkdwn():
    edits = [(0, "a <b> & "), (-1, "old words "), (1, "new"), (0, "x" * 1000)]
    text = slack.words_mrkdwn(edits)
    assert text.startswith("a &lt;b&gt; &amp; ~old words~ *new*")
    assert " … " in text and len(text) < 320  # long unchanged context is elided
    # Markers stay on one line and off whitespace, or Slack shows them literally.
    assert slack.words_mrkdwn([(0, "a "), (1, " two\nlines ")]) == "a  *two*\n*lines* "
    # A replacement inside a word still renders: a zero-width space marks the boundary.
    assert slack.words_mrkdwn([(0, "notif"), (-1, "y"), (1, "ies")]) == "notif\u200b~y~ *ies*"
    msg = Message("s", ["1 < 2 & 3 > 2"], [Part("A&B", [Entry("<t>", ["d&"], edits)])], "run `x` <now>")
    blocks = slack.to_blocks(msg, "<alert-1@regwatch>")
    assert slack_problems({"text": "s", "blocks": blocks}) == []
    assert "*A&amp;B*\n• *&lt;t&gt;*\n    d&amp;" in _texts({"blocks": blocks})
    assert blocks[-1]["elements"][1]["text"] == "alert alert-1@regwatch"


def _huge_message() -> tuple[Message, list[str], list[str]]:
    parts, titles = [], []
    for p in range(8):
        entries = []
        for k in range(60):
            titles.append(f"entry-{p}-{k:03}:")
            entries.append(Entry(f"entry-{p}-{k:03}: " + "a very long section title " * (40 if k == 1 else 1),
                                 ["reason & more"] * 3,
                                 [(0, "kept " * 200), (-1, "gone " * 50), (1, "<new> " * (2000 if k == 0 else 20))]))
        parts.append(Part(f"Change {p}", entries))
    msg = Message("[regwatch] " + "subject " * 60, ["a long summary line " * 100] * 3, parts,
                  "Full diff: regwatch diff act 1 2")
    return msg, titles, [p.heading for p in parts]


def test_a_huge_message_stays_within_slack_limits(slack_hook):
    msg, titles, headings = _huge_message()
    blocks = slack.to_blocks(msg, "<alert-1@regwatch>")
    assert len(blocks) == slack.MAX_BLOCKS
    assert slack_problems({"text": "t", "blocks": blocks}) == []
    header = blocks[0]["text"]["text"]
    assert len(header) == 150 and header.endswith("…")
    text = _texts({"blocks": blocks})
    assert "… (truncated)" in text  # the 12,000-character insertion and the 3,000+ summary
    notice = blocks[-2]["text"]["text"]
    m = re.fullmatch(r"…and (\d+) more entries under (\d+) more headings not shown\. "
                     r"Full diff: regwatch diff act 1 2", notice)
    assert m, notice
    shown = [t for t in titles if t in text]
    assert 0 < len(shown) < len(titles) and shown == titles[:len(shown)]  # in order, none skipped
    assert int(m[1]) == len(titles) - len(shown)
    assert int(m[2]) == sum(h not in text for h in headings)
    assert blocks[-3]["type"] != "divider" and blocks[-1]["type"] == "context"
    # And Slack (the receiver) takes it.
    slack.send(SlackChannel(webhook_url_env="HOOK"), msg, "<alert-1@regwatch>", {"HOOK": slack_hook.url()})
    (req,) = slack_hook.requests
    assert req.problems == [] and len(req.payload["blocks"]) == 50


def test_a_small_message_is_not_cut():
    msg = Message("s", ["one"], [Part("P", [Entry(f"e{k}") for k in range(5)])], "footer")
    blocks = slack.to_blocks(msg)
    assert [b["type"] for b in blocks] == ["header", "section", "divider", "section", "context"]
    assert "not shown" not in _texts({"blocks": blocks}) and "e4" in blocks[3]["text"]["text"]


# --- delivery through the CLI ----------------------------------------------------------------

def test_notify_posts_one_valid_block_kit_message(hooked, slack_hook):
    res = regwatch(hooked, "notify", "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert len(report["sent"]) == 1 and report["messages"] == 1 and report["failed"] == []
    (req,) = slack_hook.requests
    assert req.problems == [] and req.path == SLACK_WEBHOOK_PATH
    assert req.headers["Content-Type"].startswith("application/json")
    payload = req.payload
    assert payload["text"].startswith("[regwatch] act: v1 → v2: 1 substantive change(s)")
    assert payload["blocks"][0]["type"] == "header" and payload["blocks"][-1]["type"] == "context"
    text = _texts(payload)
    assert EDITS in text and "aia-55-1-c" in text and "regwatch diff act 1 2" in text
    (row,) = _alerts(hooked)
    assert row["status"] == "sent" and row["attempts"] == 1 and row["last_error"] is None
    assert f"alert {row['message_id'].strip('<>')}" in text  # a resend after a crash is recognisable
    again = regwatch(hooked, "notify", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["sent"] == [] and len(slack_hook.requests) == 1


def test_a_short_retry_after_is_waited_inline(hooked, slack_hook):
    slack_hook.script = [(429, "rate_limited", {"Retry-After": "1"})]
    res = regwatch(hooked, "notify", "--json")
    assert res.exit_code == 0, res.output
    first, second = slack_hook.requests
    assert second.at - first.at >= 1.0 and first.payload == second.payload
    (row,) = _alerts(hooked)
    assert row["status"] == "sent" and row["attempts"] == 1


def test_a_long_retry_after_goes_back_to_the_outbox(hooked, slack_hook):
    slack_hook.script = [(429, "rate_limited", {"Retry-After": "120"})]
    before = datetime.now(UTC).replace(microsecond=0)
    res = regwatch(hooked, "notify", "--json")
    assert res.exit_code == 3 and len(json.loads(res.stdout)["failed"]) == 1
    assert len(slack_hook.requests) == 1  # not slept inline: it would hold up every other alert
    (row,) = _alerts(hooked)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert "RetryLater" in row["last_error"] and "429" in row["last_error"] and "120 s" in row["last_error"]
    assert 119 <= _next_attempt_in(row, before) <= 125
    assert json.loads(regwatch(hooked, "notify", "--json").stdout)["sent"] == []  # Retry-After is honoured
    assert regwatch(hooked, "notify", "--retry-now").exit_code == 0
    assert len(slack_hook.requests) == 2 and _alerts(hooked)[0]["status"] == "sent"


def test_a_server_error_is_retried_with_backoff(hooked, slack_hook):
    slack_hook.script = [(500, "internal_error", {})]
    before = datetime.now(UTC).replace(microsecond=0)
    assert regwatch(hooked, "notify").exit_code == 3
    (row,) = _alerts(hooked)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["last_error"].startswith("ChannelError:") and "HTTP 500" in row["last_error"]
    assert 29 <= _next_attempt_in(row, before) <= 62  # backoff 60 s x jitter 0.5..1
    assert json.loads(regwatch(hooked, "notify", "--json").stdout)["sent"] == []
    res = regwatch(hooked, "notify", "--retry-now", "--json")
    assert res.exit_code == 0 and len(json.loads(res.stdout)["sent"]) == 1
    (row,) = _alerts(hooked)
    assert row["status"] == "sent" and row["attempts"] == 2
    assert len(slack_hook.requests) == 2 and slack_hook.requests[0].payload == slack_hook.requests[1].payload


def test_a_revoked_webhook_is_dead_at_once(hooked, slack_hook):
    slack_hook.script = [(404, "no_service", {})]
    res = regwatch(hooked, "notify", "--json")
    assert res.exit_code == 3 and len(json.loads(res.stdout)["dead"]) == 1
    (row,) = _alerts(hooked)
    assert row["status"] == "dead" and row["attempts"] == 1  # max_attempts is 3: not waited for
    assert row["last_error"].startswith("PermanentError:") and "404" in row["last_error"]
    assert "no_service" in row["last_error"]
    assert regwatch(hooked, "notify", "--retry-now").exit_code == 0 and len(slack_hook.requests) == 1


def test_a_missing_webhook_variable_is_a_recorded_error(hooked, slack_hook, monkeypatch):
    monkeypatch.delenv(HOOK_ENV)
    res = regwatch(hooked, "notify")
    assert res.exit_code == 3 and f"{HOOK_ENV} is not set" in res.output
    (row,) = _alerts(hooked)
    assert row["status"] == "pending" and row["last_error"] == f"ChannelError: environment variable {HOOK_ENV} is not set"
    assert slack_hook.requests == []


def test_the_webhook_url_is_never_stored_printed_or_logged(hooked, slack_hook, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    secret = SLACK_WEBHOOK_PATH.rsplit("/", 1)[1]
    # Nothing listens there: a connection error, then a 500, then a refusal with a body.
    monkeypatch.setenv(HOOK_ENV, f"http://127.0.0.1:{_free_port()}{SLACK_WEBHOOK_PATH}")
    outputs = [regwatch(hooked, "notify")]
    monkeypatch.setenv(HOOK_ENV, slack_hook.url())
    slack_hook.script = [(500, "internal_error", {}), (403, "action_prohibited", {})]
    outputs += [regwatch(hooked, "notify", "--retry-now") for _ in range(2)]
    outputs.append(regwatch(hooked, "alerts", "--json"))
    (row,) = _alerts(hooked)
    assert row["status"] == "dead" and "action_prohibited" in row["last_error"]
    assert len(slack_hook.requests) == 2 and [r.exit_code for r in outputs] == [3, 3, 3, 0]
    assert "Connection" in outputs[0].output  # the error is still useful
    for path in hooked.parent.iterdir():
        assert secret.encode() not in path.read_bytes(), path
    for res in outputs:
        assert secret not in res.output
    assert secret not in caplog.text


def test_two_messages_to_one_webhook_are_a_second_apart(tmp_path, monkeypatch, slack_hook):
    monkeypatch.setenv(HOOK_ENV, slack_hook.url())
    cfg = tmp_path / "config.yaml"
    cfg.write_text(_cfg_text(_free_port(), subs=SLACK_ONLY + "  - {name: team2, channels: [slack]}\n"))
    _changed_db(cfg, [ACT, AMENDED])
    res = regwatch(cfg, "notify", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["messages"] == 2
    first, second = slack_hook.requests
    assert second.at - first.at >= slack.MIN_INTERVAL


@pytest.mark.parametrize(("status", "error", "headers", "expected"), [
    (403, "action_prohibited", {}, PermanentError),
    (410, "", {}, PermanentError),
    (400, "invalid_payload", {}, PermanentError),
    (503, "", {}, ChannelError),
    (429, "rate_limited", {"Retry-After": "7200"}, RetryLater),
    (429, "rate_limited", {}, ChannelError),
])
def test_webhook_answers_map_to_retry_decisions(slack_hook, status, error, headers, expected):
    slack_hook.script = [(status, error, headers)]
    msg = Message("s", ["one"])
    with pytest.raises(ChannelError) as exc:
        slack.send(SlackChannel(webhook_url_env="HOOK"), msg, "<a@r>", {"HOOK": slack_hook.url()})
    assert type(exc.value) is expected and str(status) in str(exc.value) and error in str(exc.value)
    if expected is RetryLater:
        assert exc.value.delay == 7200
    assert SLACK_WEBHOOK_PATH not in str(exc.value)


# --- bot token ------------------------------------------------------------------------------

def _bot_cfg(tmp_path: Path, api_url: str) -> Path:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("database: h.db\nalerts: {max_attempts: 3, backoff: 60}\nchannels:\n"
                   f"  bot: {{channel: slack, token_env: RW_TEST_SLACK_TOKEN, channel_id: C0RWTEST, api_url: '{api_url}'}}\n"
                   "subscriptions:\n  - {name: team, channels: [bot]}\n")
    return cfg


def test_bot_token_posts_with_chat_post_message(tmp_path, monkeypatch, slack_hook):
    monkeypatch.setenv("RW_TEST_SLACK_TOKEN", TOKEN)
    cfg = _bot_cfg(tmp_path, slack_hook.url("/api"))
    _changed_db(cfg, [ACT, AMENDED])
    slack_hook.script = [(429, "ratelimited", {"Retry-After": "120"})]
    before = datetime.now(UTC).replace(microsecond=0)
    res = regwatch(cfg, "notify", "--json")
    assert res.exit_code == 3
    (row,) = _alerts(cfg)
    assert row["last_error"].startswith("RetryLater:") and 119 <= _next_attempt_in(row, before) <= 125
    res = regwatch(cfg, "notify", "--retry-now", "--json")
    assert res.exit_code == 0 and len(json.loads(res.stdout)["sent"]) == 1
    assert len(slack_hook.requests) == 2
    req = slack_hook.requests[-1]
    assert req.path == "/api/chat.postMessage" and req.problems == []
    assert req.headers["Authorization"] == f"Bearer {TOKEN}"
    assert req.payload["channel"] == "C0RWTEST" and EDITS in _texts(req.payload)
    (row,) = _alerts(cfg)
    assert req.payload["metadata"] == {"event_type": "regwatch_alert",
                                       "event_payload": {"message_id": row["message_id"]}}
    for path in tmp_path.iterdir():
        assert TOKEN.encode() not in path.read_bytes(), path
    assert TOKEN not in res.output


@pytest.mark.parametrize(("status", "error", "expected"), [
    (200, "channel_not_found", PermanentError),
    (200, "invalid_auth", PermanentError),
    (200, "fatal_error", ChannelError),
    (500, "internal_error", ChannelError),
])
def test_bot_api_errors_map_to_retry_decisions(slack_hook, status, error, expected):
    slack_hook.script = [(status, error, {})]
    ch = SlackChannel(token_env="TOKEN", channel_id="C1", api_url=slack_hook.url("/api/"))
    with pytest.raises(ChannelError) as exc:
        slack.send(ch, Message("s", ["one"]), "<a@r>", {"TOKEN": TOKEN})
    assert type(exc.value) is expected and error in str(exc.value) and TOKEN not in str(exc.value)


def test_a_missing_token_names_the_variable():
    ch = SlackChannel(token_env="RW_NO_SUCH_TOKEN", channel_id="C1", api_url="http://127.0.0.1:9/api/")
    with pytest.raises(ChannelError, match="environment variable RW_NO_SUCH_TOKEN is not set"):
        slack.send(ch, Message("s", ["one"]), "<a@r>", {})


def test_the_retry_after_reader():
    assert slack.retry_after("30") == 30 and slack.retry_after(["7"]) == 7
    assert slack.retry_after(None) is None and slack.retry_after("soon") is None
    later = (datetime.now(UTC) + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 85 <= slack.retry_after(later) <= 91
