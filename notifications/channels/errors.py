"""How a channel reports a failed send, so the dispatcher can retry it well."""

from __future__ import annotations


class ChannelError(Exception):
    """A send failed; retried with the outbox's exponential backoff."""


class RetryLater(ChannelError):
    """The service asked to be called again later (HTTP 429 with Retry-After, for example):
    the next attempt is not before `delay` seconds."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


class PermanentError(ChannelError):
    """A send that cannot succeed by retrying (the webhook was revoked, the payload refused):
    the alert is dead at once, with this error."""
