"""Email through SMTP (stdlib smtplib): multipart plain text + HTML."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate

from notifications.channels.errors import ChannelError
from notifications.config import EmailChannel
from notifications.messages import Message


def to_email(ch: EmailChannel, message: Message, message_id: str) -> EmailMessage:
    """The MIME message for `message` from the channel's sender to its recipients."""
    msg = EmailMessage()
    msg["Subject"] = message.subject
    msg["From"] = ch.from_
    msg["To"] = ", ".join(ch.to or [])
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id
    msg.set_content(message.text)
    msg.add_alternative(message.html, subtype="html")
    return msg


def send(ch: EmailChannel, message: Message, message_id: str, environ: Mapping[str, str]) -> str:
    """Deliver `message` through the channel's SMTP server; returns the Message-ID."""
    password = None
    if ch.password_env:
        password = environ.get(ch.password_env)
        if not password:
            # Only the variable's name: the error is stored in alerts.last_error.
            raise ChannelError(f"environment variable {ch.password_env} is not set")
    security = ch.security or "starttls"
    timeout = ch.timeout or 30
    cls = smtplib.SMTP_SSL if security == "ssl" else smtplib.SMTP
    kwargs = {"context": ssl.create_default_context()} if security == "ssl" else {}
    with cls(ch.host, ch.port_or_default(), timeout=timeout, **kwargs) as smtp:
        if security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if ch.username:
            smtp.login(ch.username, password or "")
        smtp.send_message(to_email(ch, message, message_id), from_addr=ch.from_, to_addrs=list(ch.to or []))
    return message_id
