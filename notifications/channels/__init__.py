"""Channels: one module per kind, each a `send(channel_config, message, message_id, environ)`."""

from __future__ import annotations

from notifications.channels import email

# Kinds that can send today; Slack is accepted by config but not sent yet (docs/alerts.md).
SENDERS = {"email": email.send}
