"""Channels: one module per kind, each a `send(channel_config, message, message_id, environ)`."""

from __future__ import annotations

from notifications.channels import email, slack

SENDERS = {"email": email.send, "slack": slack.send}
