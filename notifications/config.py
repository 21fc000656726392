"""Validation of config.yaml's `channels`, `subscriptions` and `alerts` (used by tracker.config).

Secrets are never in config: a channel names the environment variable holding them (`*_env`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

CLASSES = ("cosmetic", "editorial", "substantive")
_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
_ENV = r"^[A-Za-z_][A-Za-z0-9_]*$"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Keys that would put a secret into config.yaml: refused with a hint instead of "unknown key".
_SECRETS = {"password": "password_env", "webhook_url": "webhook_url_env", "token": "token_env"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _no_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, env in _SECRETS.items():
                if key in data:
                    raise ValueError(f"`{key}` would put a secret in config.yaml; name an environment "
                                     f"variable with `{env}` instead")
        return data


class EmailChannel(_Strict):
    """An SMTP channel. A channel with `channel: email` inherits the unset keys of the channel
    named `email` (so `ops: {channel: email, to: [...]}` only changes the recipients)."""

    channel: Literal["email"] = "email"
    host: str | None = None
    port: int | None = Field(None, ge=1, le=65535, description="default 587 (starttls), 465 (ssl), 25 (none)")
    security: Literal["starttls", "ssl", "none"] | None = Field(None, description="default starttls")
    username: str | None = None
    password_env: Annotated[str, Field(pattern=_ENV)] | None = None
    from_: str | None = Field(None, alias="from")
    to: list[str] | None = None
    timeout: float | None = Field(None, gt=0, description="seconds for one SMTP conversation; default 30")

    def port_or_default(self) -> int:
        """The port, or the usual one for the security mode."""
        return self.port or {"ssl": 465, "none": 25}.get(self.security or "starttls", 587)


class SlackChannel(_Strict):
    """A Slack channel: an incoming webhook (`webhook_url_env`), or a bot token (`token_env`)
    posting to `channel_id` through the Web API at `api_url`; one or the other."""

    channel: Literal["slack"] = "slack"
    webhook_url_env: Annotated[str, Field(pattern=_ENV)] | None = None
    token_env: Annotated[str, Field(pattern=_ENV)] | None = None
    channel_id: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None, description="bot token only: the conversation posted to (C0123ABCD)")
    api_url: str | None = Field(None, description="bot token only: Web API base URL; default https://slack.com/api/")
    timeout: float | None = Field(None, gt=0, description="seconds for one HTTP request; default 10")

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        from urllib.parse import urlsplit

        if v is not None:
            parts = urlsplit(v)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"api_url {v!r} is not an http(s) URL")
        return v

    @model_validator(mode="after")
    def _webhook_or_token(self) -> SlackChannel:
        if bool(self.webhook_url_env) == bool(self.token_env):
            raise ValueError("say either `webhook_url_env` (an incoming webhook) or `token_env` and "
                             "`channel_id` (a bot token), not both or neither")
        if self.token_env and not self.channel_id:
            raise ValueError("`token_env` needs `channel_id` (the conversation to post to)")
        extra = [k for k in ("channel_id", "api_url") if self.webhook_url_env and getattr(self, k)]
        if extra:
            raise ValueError(f"{', '.join(f'`{k}`' for k in extra)}: only with `token_env`; "
                             "an incoming webhook posts to its own channel")
        return self

    def api_url_or_default(self) -> str:
        """The Web API base URL, ending with a slash."""
        return (self.api_url or "https://slack.com/api/").rstrip("/") + "/"


def _kind(value: Any) -> str | None:
    return value.get("channel") if isinstance(value, dict) else getattr(value, "channel", None)


Channel = Annotated[
    Annotated[EmailChannel, Tag("email")] | Annotated[SlackChannel, Tag("slack")],
    Discriminator(_kind, custom_error_type="channel_kind",
                  custom_error_message="unknown channel kind; say `channel: email` or `channel: slack`"),
]


class Digest(_Strict):
    """A digest schedule: the period's changes in one message, `daily` or `weekly` (on `day`)
    at `at` (HH:MM) in `timezone`."""

    every: Literal["daily", "weekly"] = Field(alias="digest")
    at: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] = "08:00"
    day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "monday"
    timezone: str = "UTC"

    @field_validator("day", mode="before")
    @classmethod
    def _day_name(cls, v: Any) -> Any:
        if isinstance(v, str):  # "mon", "Monday" and "monday" are one day
            v = v.strip().lower()
            return next((d for d in WEEKDAYS if len(v) >= 3 and d.startswith(v)), v)
        return v

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (an IANA name such as Europe/Brussels)") from None
        return v

    @model_validator(mode="after")
    def _day_only_weekly(self) -> Digest:
        if "day" in self.model_fields_set and self.every != "weekly":
            raise ValueError("`day` is only for `digest: weekly`")
        return self


class Subscription(_Strict):
    """Who gets which alerts: changes of `documents` touching `obligations`, at or above
    `min_class` and `min_significance`, sent to `channels`."""

    name: Annotated[str, Field(pattern=_NAME, max_length=100)]
    channels: list[str] = Field(min_length=1)
    documents: list[str] | None = Field(None, description="omitted: every document")
    obligations: list[str] | None = Field(None, description="omitted: any; an id selects itself and everything below")
    min_class: Literal["cosmetic", "editorial", "substantive"] = "substantive"
    min_significance: float = Field(0.0, ge=0, le=1)
    mode: Literal["immediate"] | Digest = Field(
        "immediate", description="`immediate`, or `{digest: daily|weekly, at: 'HH:MM', day, timezone}`")

    @field_validator("mode", mode="before")
    @classmethod
    def _mode(cls, v: Any) -> Any:
        if v in ("daily", "weekly"):
            return {"digest": v}  # shorthand: `mode: daily`
        if isinstance(v, str) and v != "immediate":
            raise ValueError(f"unknown mode {v!r}: say `immediate`, `daily`, `weekly` or `{{digest: daily, at: '08:00'}}`")
        return v

    @property
    def digest(self) -> Digest | None:
        """The digest schedule, or None for immediate alerts."""
        return self.mode if isinstance(self.mode, Digest) else None

    @field_validator("obligations")
    @classmethod
    def _known_obligations(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        from tracker.obligations.catalog import norm_id, shipped_catalog

        catalog = shipped_catalog()
        ids = [norm_id(o) for o in v]
        unknown = [o for o, oid in zip(v, ids, strict=True) if catalog.get(oid) is None]
        if unknown:
            raise ValueError(f"unknown obligation(s) {', '.join(unknown)} (see `regwatch obligations`)")
        return ids


class AlertSettings(_Strict):
    """How the dispatcher retries, and who hears of tracking failures."""

    max_attempts: int = Field(8, ge=1, le=100, description="failed sends before an alert is dead")
    backoff: float = Field(60, ge=0, description="seconds before the first retry; doubles each retry, with jitter")
    max_backoff: float = Field(6 * 3600, ge=0, description="longest wait between retries, seconds")
    lease: float = Field(600, gt=0, description="seconds after which an unfinished send is retried")
    operators: list[str] | None = Field(
        None, description="channels told of tracking failures; default: the channel named `ops`, if any")
    failure_threshold: int = Field(3, ge=1, le=1000, description="failed fetches in a row that make a tracking failure")


def resolve_channels(channels: dict[str, EmailChannel | SlackChannel]) -> dict[str, EmailChannel | SlackChannel]:
    """Fill `channel: email` entries from the channel named `email` and check each is complete."""
    base = channels.get("email")
    base = base if isinstance(base, EmailChannel) else None
    out: dict[str, EmailChannel | SlackChannel] = {}
    for name, ch in channels.items():
        if isinstance(ch, EmailChannel):
            if base is not None and ch is not base:
                ch = base.model_copy(update={k: getattr(ch, k) for k in ch.model_fields_set})
            missing = [("from" if k == "from_" else k) for k in ("host", "from_", "to") if not getattr(ch, k)]
            if missing:
                hint = "" if base is not None else " (nor a channel named `email` to take them from)"
                raise ValueError(f"channels.{name}: missing {', '.join(missing)}{hint}")
        out[name] = ch
    return out


def check_subscriptions(subscriptions: list[Subscription], channels: dict[str, Any],
                        operators: list[str] | None = None) -> None:
    """Subscription names are unique and every channel they (and `alerts.operators`) name is configured."""
    unknown = [c for c in operators or [] if c not in channels]  # None: the default, checked by the caller
    if unknown:
        raise ValueError(f"alerts.operators: unknown channel(s) {', '.join(unknown)} "
                         f"(configured: {', '.join(channels) or 'none'})")
    seen: set[str] = set()
    for k, sub in enumerate(subscriptions):
        if sub.name in seen:
            raise ValueError(f"subscriptions[{k}]: duplicate subscription name {sub.name!r}")
        seen.add(sub.name)
        unknown = [c for c in sub.channels if c not in channels]
        if unknown:
            known = ", ".join(channels) or "none"
            raise ValueError(f"subscriptions[{k}] ({sub.name}): unknown channel(s) {', '.join(unknown)} "
                             f"(configured: {known})")


