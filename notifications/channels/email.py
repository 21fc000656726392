"""Email through SMTP (stdlib smtplib): multipart plain text + HTML.

A dispatch run sends all its email alerts over one SMTP connection per channel (`Session`):
connecting, greeting and logging in cost about as much as sending a message.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate

from notifications.channels.errors import ChannelError
from notifications.config import EmailChannel
from notifications.messages import Message


def to_email(ch: EmailChannel, message: Message, message_id: str) -> MIMEMultipart:
    """The MIME message for `message` from the channel's sender to its recipients."""
    # The legacy (compat32) email API: the `EmailMessage` API re-parses and re-folds every
    # header on assignment, about 5x slower here, and the alerts benchmark spent most of its
    # own time there.
    msg = MIMEMultipart("alternative")
    msg["Subject"] = Header(message.subject, "utf-8")
    msg["From"] = ch.from_ or ""
    msg["To"] = ", ".join(ch.to or [])
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id
    msg.attach(MIMEText(message.text, "plain", "utf-8"))
    msg.attach(MIMEText(message.html, "html", "utf-8"))
    return msg


def _connect(ch: EmailChannel, environ: Mapping[str, str]) -> smtplib.SMTP:
    password = None
    if ch.password_env:
        password = environ.get(ch.password_env)
        if not password:
            # Only the variable's name: the error is stored in alerts.last_error.
            raise ChannelError(f"environment variable {ch.password_env} is not set")
    security = ch.security or "starttls"
    timeout = ch.timeout or 30
    if security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(ch.host, ch.port_or_default(), timeout=timeout,
                                              context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(ch.host, ch.port_or_default(), timeout=timeout)
    try:
        if security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if ch.username:
            smtp.login(ch.username, password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


class Session:
    """An SMTP connection for the sends of one dispatch run, opened at the first send and
    reopened after a failure."""

    def __init__(self, ch: EmailChannel, environ: Mapping[str, str]) -> None:
        self.ch, self.environ = ch, environ
        self.smtp: smtplib.SMTP | None = None
        self.sent_on_connection = 0
        self.unreachable: str | None = None  # why connecting failed in this run

    def send(self, message: Message, message_id: str) -> str:
        """Deliver `message`; returns the Message-ID."""
        if self.unreachable:
            # One connection failure per run is enough: a server that is down (or hangs until
            # the timeout) is not tried again for every queued alert.
            raise ChannelError(f"not tried, the server was unreachable earlier in this run: {self.unreachable}")
        mime = to_email(self.ch, message, message_id)
        for attempt in (1, 2):
            if self.smtp is None:
                try:
                    self.smtp = _connect(self.ch, self.environ)
                except OSError as exc:  # refused, timed out, DNS: not the message's fault
                    self.unreachable = f"{type(exc).__name__}: {exc}"
                    raise
                self.sent_on_connection = 0
            try:
                self.smtp.send_message(mime, from_addr=self.ch.from_ or "", to_addrs=list(self.ch.to or []))
            except smtplib.SMTPServerDisconnected:
                reused = self.sent_on_connection > 0
                self.close()
                # Servers close connections after some messages or when idle: a connection
                # that already carried mail is reopened once; a fresh one that fails is a failure.
                if reused and attempt == 1:
                    continue
                raise
            except BaseException:
                self.close()  # the connection's state is unknown: start clean next time
                raise
            self.sent_on_connection += 1
            return message_id
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Say goodbye to the server (or just drop the connection)."""
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()
        self.smtp = None


def send(ch: EmailChannel, message: Message, message_id: str, environ: Mapping[str, str]) -> str:
    """Deliver `message` through the channel's SMTP server on a connection of its own."""
    session = Session(ch, environ)
    try:
        return session.send(message, message_id)
    finally:
        session.close()
