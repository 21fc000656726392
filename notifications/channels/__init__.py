"""Channels: one module per kind, each a `send(channel_config, message, message_id, environ)`;
`open_session` gives the dispatcher one sender per channel for a whole run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from notifications.channels import email, slack
from notifications.messages import Message

SENDERS = {"email": email.send, "slack": slack.send}


class Session(Protocol):
    """Sends messages to one channel during one dispatch run."""

    def send(self, message: Message, message_id: str) -> str: ...  # noqa: D102

    def close(self) -> None: ...  # noqa: D102


class _OneShot:
    """A session for channels with no connection to keep (each send is one HTTP request)."""

    def __init__(self, ch: Any, environ: Mapping[str, str]) -> None:
        self.ch, self.environ = ch, environ

    def send(self, message: Message, message_id: str) -> str:
        return SENDERS[self.ch.channel](self.ch, message, message_id, self.environ)

    def close(self) -> None:
        pass


def open_session(ch: Any, environ: Mapping[str, str]) -> Session:
    """A sender for channel config `ch` (connections are opened lazily, at the first send)."""
    if ch.channel == "email":
        return email.Session(ch, environ)
    return _OneShot(ch, environ)
