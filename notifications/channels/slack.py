"""Slack through slack_sdk: Block Kit to an incoming webhook, or `chat.postMessage` with a bot token.

Slack's limits are kept here, not hoped for: at most 50 blocks, 150 characters of header and
3000 per text, one message per second per webhook. What does not fit is cut with a clear
"…and N more entries not shown" and the command that shows everything.

The webhook URL and the token are secrets: they are read from the environment at send time and
never put into an exception (the dispatcher stores exceptions in `alerts.last_error`) or a log.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookClient

from notifications.channels.errors import ChannelError, PermanentError, RetryLater
from notifications.config import SlackChannel
from notifications.messages import Edits, Entry, Message, elide

MAX_BLOCKS = 50
MAX_TEXT = 3000  # a section's or a context element's text
MAX_HEADER = 150  # a header block's plain text
MAX_CONTEXT_ELEMENTS = 10
TRUNCATED = "… (truncated)"
MIN_INTERVAL = 1.0  # seconds between two messages to one webhook (Slack allows 1 per second)
INLINE_RETRY_MAX = 5  # longest Retry-After (seconds) slept inside one send; longer waits go back to the outbox
DEFAULT_TIMEOUT = 10.0

# slack_sdk logs request URLs (for a webhook, the URL is the secret) and failure messages;
# regwatch records its own scrubbed error for every failed send, so the SDK's logs are muted.
_SDK_LOG = logging.getLogger(__name__ + ".sdk")
_SDK_LOG.setLevel(logging.CRITICAL)

# Slack answers these with 200 (bot API, `ok: false`) or 4xx (webhooks): resending the same
# message to the same place cannot succeed.
PERMANENT_ERRORS = frozenset({
    "no_service", "no_active_hooks", "channel_not_found", "channel_is_archived", "is_archived",
    "not_in_channel", "invalid_token", "invalid_auth", "not_authed", "account_inactive", "token_revoked",
    "token_expired", "action_prohibited", "posting_to_general_channel_denied", "restricted_action",
    "missing_scope", "team_disabled", "invalid_blocks", "invalid_blocks_format", "invalid_payload",
    "invalid_arguments", "msg_too_long", "no_text", "too_many_attachments", "user_not_found",
})


# --- Block Kit ------------------------------------------------------------------------------

def escape(text: str) -> str:
    """`text` with &, < and > escaped, as Slack requires in mrkdwn (it reads <...> as links)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int, marker: str = TRUNCATED) -> str:
    """`text` cut to at most `limit` characters, ending with `marker` when cut; an escaped
    entity (&amp;) is never cut in half."""
    if len(text) <= limit:
        return text
    cut = text[:limit - len(marker)]
    amp = cut.rfind("&", max(0, len(cut) - 5))
    if amp >= 0 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + marker


def _mark(text: str, mark: str) -> str:
    # Slack only formats a marker next to non-space characters and within one line, so each
    # line's words are wrapped and the surrounding whitespace stays outside the markers.
    out = []
    for line in text.split("\n"):
        core = line.strip()
        if not core:
            out.append(line)
            continue
        lead, trail = line[:len(line) - len(line.lstrip())], line[len(line.rstrip()):]
        out.append(f"{lead}{mark}{core}{mark}{trail}")
    return "\n".join(out)


def words_mrkdwn(edits: Edits) -> str:
    """Word edits in Slack mrkdwn: ~deleted~ and *inserted*, unchanged context shortened."""
    out, prev_op = "", 0
    for op, t in edits:
        piece = escape(elide(t)) if op == 0 else _mark(escape(t), "~" if op < 0 else "*")
        if out and piece and (op or prev_op) and not out[-1].isspace() and not piece[0].isspace():
            # Slack formats a marker only at a word boundary: a deletion and its replacement
            # get a space between them; a marker touching a word, a zero-width space.
            out += " " if op and prev_op else "\u200b"
        out, prev_op = out + piece, op
    return out


def _entry_text(entry: Entry) -> str:
    lines = [f"• {_mark(escape(entry.title.strip()), '*')}"]
    if entry.details:
        lines.append("    " + escape("; ".join(entry.details)))
    if entry.edits:
        lines.append("    " + words_mrkdwn(entry.edits))
    return clip("\n".join(lines), MAX_TEXT)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_TEXT)}}


@dataclass
class _Body:
    """A body block and what it shows: how many entries, and whether it starts a part."""

    block: dict[str, Any]
    entries: int = 0
    heading: bool = False


def _part_blocks(heading: str, entries: list[Entry]) -> list[_Body]:
    """A part as sections: its bold heading, then as many entries per section as fit."""
    out = [_Body(_section(_mark(escape(heading.strip() or "…"), "*")), 0, True)]
    for entry in entries:
        text = _entry_text(entry)
        last = out[-1]
        joined = last.block["text"]["text"] + "\n" + text
        if len(joined) <= MAX_TEXT:
            last.block["text"]["text"] = joined
            last.entries += 1
        else:
            out.append(_Body(_section(text), 1))
    return out


def _context(message: Message, message_id: str | None) -> dict[str, Any] | None:
    elements = []
    if message.footer:
        elements.append({"type": "mrkdwn", "text": clip(escape(message.footer), MAX_TEXT)})
    if message_id:
        # Visible but harmless: a resend after a crash carries the same id, so it is recognisable.
        elements.append({"type": "mrkdwn", "text": escape(f"alert {message_id.strip('<>')}")})
    return {"type": "context", "elements": elements[:MAX_CONTEXT_ELEMENTS]} if elements else None


def _not_shown(dropped: list[_Body], footer: str) -> dict[str, Any]:
    entries, parts = sum(b.entries for b in dropped), sum(b.heading for b in dropped)
    text = f"…and {entries} more entr{'y' if entries == 1 else 'ies'}"
    if parts:
        text += f" under {parts} more heading{'' if parts == 1 else 's'}"
    text += " not shown."
    return _section(escape(text + (f" {footer}" if footer else "")))


def to_blocks(message: Message, message_id: str | None = None) -> list[dict[str, Any]]:
    """`message` as Block Kit blocks within Slack's limits: header, summary, each part's heading
    and entries, the footer (and `message_id`) as context; what does not fit in 50 blocks is
    replaced by a last section saying how many entries are not shown and how to see them."""
    head: list[dict[str, Any]] = [{"type": "header", "text": {
        "type": "plain_text", "text": clip(message.subject.strip() or "regwatch", MAX_HEADER, "…"), "emoji": True}}]
    if any(s.strip() for s in message.summary):
        head.append(_section("\n".join(escape(s) for s in message.summary)))
    body: list[_Body] = []
    for part in message.parts:
        body.append(_Body({"type": "divider"}))
        body += _part_blocks(part.heading, part.entries)
    context = _context(message, message_id)
    tail = [context] if context else []
    room = MAX_BLOCKS - len(head) - len(tail)
    if len(body) <= room:
        return head + [b.block for b in body] + tail
    kept = body[:room - 1]  # one block left for the notice
    while kept and (kept[-1].block["type"] == "divider" or (kept[-1].heading and not kept[-1].entries)):
        kept.pop()  # no divider or lone heading just before the notice
    notice = _not_shown(body[len(kept):], message.footer)
    return head + [b.block for b in kept] + [notice] + tail


def to_payload(message: Message, message_id: str | None = None) -> dict[str, Any]:
    """The JSON Slack receives: the blocks, and `text`, the subject, which Slack shows in
    notifications and where blocks cannot be shown."""
    return {"text": clip(message.subject or "regwatch alert", MAX_TEXT), "blocks": to_blocks(message, message_id)}


# --- sending ----------------------------------------------------------------------------------

_last_post: dict[str, float] = {}  # throttle key -> time.monotonic() when its last post ended


def _throttle(key: str) -> None:
    """Wait until MIN_INTERVAL has passed since the last post to `key` ended."""
    # Slack allows one message per second per webhook (and per channel for chat.postMessage)
    # and answers bursts with 429; a digest day or a backlog after an outage sends many in a
    # row, so they are spaced here rather than bounced. The time is per process: two
    # dispatchers at once can still meet a 429, which is then retried like any other.
    wait = _last_post.get(key, -math.inf) + MIN_INTERVAL - time.monotonic()
    if wait > 0:
        time.sleep(wait)


def _posted(key: str) -> None:
    _last_post[key] = time.monotonic()


def retry_after(value: Any) -> float | None:
    """Seconds to wait from a Retry-After header value (seconds or an HTTP date; a list of
    values is read by its first), or None when absent or unreadable."""
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None:
        return None
    value = str(value).strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _header(headers: Mapping[str, Any] | None, name: str) -> Any:
    return next((v for k, v in (headers or {}).items() if k.lower() == name.lower()), None)


class ShortRateLimitRetry(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (it sleeps Retry-After, then resends), only when Slack asks for
    at most INLINE_RETRY_MAX seconds: a longer wait would hold up every other alert of the run,
    so the alert goes back to the outbox with that delay instead."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        value = _header(response.headers, "retry-after")
        value = value[0] if isinstance(value, list) and value else value
        # The SDK reads the header with int(): only whole seconds are retried inline.
        return value is not None and str(value).strip().isdigit() and int(str(value).strip()) <= INLINE_RETRY_MAX


def _failure(status: int, error: str, headers: Mapping[str, Any] | None, where: str) -> ChannelError:
    """The exception for a refused post: RetryLater for rate limits, PermanentError for what
    cannot succeed, ChannelError (retried with backoff) otherwise."""
    what = f"{where} answered HTTP {status}" + (f" {error!r}" if error else "")
    if status == 429 or error in ("ratelimited", "rate_limited"):
        delay = retry_after(_header(headers, "retry-after"))
        if delay is not None:
            return RetryLater(f"{what}: rate-limited, retry after {delay:.0f} s", delay)
        return ChannelError(f"{what}: rate-limited without Retry-After")
    # A 4xx other than a timeout (404/410 revoked webhook, 403, 400 refused payload) means the
    # same message to the same place cannot succeed.
    if error in PERMANENT_ERRORS or (400 <= status < 500 and status != 408):
        return PermanentError(f"{what}: refused for good (a revoked webhook, a missing channel or scope, "
                              "or a payload Slack rejects); retrying cannot help")
    return ChannelError(what)


def _scrub(text: str, *secrets: str) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<secret>")
    return text


def _secret(environ: Mapping[str, str], name: str) -> str:
    value = (environ.get(name) or "").strip()
    if not value:
        # Only the variable's name: the error is stored in alerts.last_error.
        raise ChannelError(f"environment variable {name} is not set")
    return value


def _post_webhook(ch: SlackChannel, payload: dict[str, Any], environ: Mapping[str, str]) -> None:
    url = _secret(environ, ch.webhook_url_env or "")
    if not url.lower().startswith(("https://", "http://")):
        raise ChannelError(f"environment variable {ch.webhook_url_env} does not hold an http(s) URL")
    client = WebhookClient(url, timeout=ch.timeout or DEFAULT_TIMEOUT, logger=_SDK_LOG,
                           retry_handlers=[ShortRateLimitRetry(max_retry_count=1)])
    key = "webhook:" + hashlib.sha256(url.encode()).hexdigest()
    _throttle(key)
    try:
        resp = client.send_dict(payload)
    except Exception as exc:  # connection refused, timeout, TLS...: retried with backoff
        # `from None`: the original may carry the URL, and chained tracebacks get printed.
        raise ChannelError(f"cannot reach the Slack webhook: {_scrub(_reason(exc), url)}") from None
    finally:
        _posted(key)
    if resp.status_code != 200:
        body = _scrub((resp.body or "").strip()[:200], url)
        raise _failure(resp.status_code, body, resp.headers, "the Slack webhook")


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None)  # urllib's URLError wraps the socket error
    return f"{type(exc).__name__}: {reason if reason is not None else exc}"


def _post_api(ch: SlackChannel, payload: dict[str, Any], message_id: str, environ: Mapping[str, str]) -> None:
    token = _secret(environ, ch.token_env or "")
    api = ch.api_url_or_default()
    client = WebClient(token=token, base_url=api, timeout=ch.timeout or DEFAULT_TIMEOUT,  # type: ignore[arg-type]
                       logger=_SDK_LOG, retry_handlers=[ShortRateLimitRetry(max_retry_count=1)])
    key = f"api:{api}|{ch.channel_id}"
    _throttle(key)
    try:
        client.chat_postMessage(channel=ch.channel_id, text=payload["text"], blocks=payload["blocks"],
                                metadata={"event_type": "regwatch_alert",
                                          "event_payload": {"message_id": message_id}})
    except SlackApiError as exc:
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        error = _scrub(str(data.get("error") or ""), token)[:200]
        raise _failure(exc.response.status_code, error, exc.response.headers, "Slack chat.postMessage") from None
    except Exception as exc:
        raise ChannelError(f"cannot reach the Slack API: {_scrub(_reason(exc), token)}") from None
    finally:
        _posted(key)


def send(ch: SlackChannel, message: Message, message_id: str, environ: Mapping[str, str]) -> str:
    """Post `message` to the channel's webhook, or with its bot token to its `channel_id`;
    returns `message_id`, which the message shows."""
    payload = to_payload(message, message_id)
    if ch.token_env:
        _post_api(ch, payload, message_id, environ)
    else:
        _post_webhook(ch, payload, environ)
    return message_id
