"""config.yaml: loading, validation with errors that name the field and the line, and defaults.

Validation is pydantic's (typed fields, unknown keys refused so typos surface); YAML is
composed by hand only to remember which line each value came from.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from crawler.sources import CrawlSource
from notifications.config import (
    AlertSettings,
    Channel,
    Subscription,
    check_subscriptions,
    resolve_channels,
)

_INTERVAL = re.compile(r"^every\s+(\d+)\s*(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
CONFIG_ENV = "REGWATCH_CONFIG"


class ConfigError(Exception):
    """Raised when config.yaml is missing, unreadable or invalid, from `load_config`."""


_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _cron_day(token: str) -> int:
    token = token.lower()
    if token[:3] in _CRON_DAYS and token.isalpha():
        return _CRON_DAYS.index(token[:3])
    if not token.isdigit() or int(token) > 7:
        raise ValueError(f"day of week {token!r} is not 0-7 or sun..sat")
    return int(token) % 7


def cron_day_of_week(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday, as cron has it) as APScheduler 3 day names.

    APScheduler 3 reads numbers as 0 = Monday (its documented historical mistake, fixed only
    in 4.x), so "0 7 * * 1-5" would run Tuesday to Saturday if passed through."""
    if field == "*":
        return field
    days: set[int] = set()
    for item in field.split(","):
        rng, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"bad step in {item!r}")
        if rng == "*":
            lo, hi = 0, 6
        elif "-" in rng:
            a, b = rng.split("-", 1)
            lo, hi = _cron_day(a), _cron_day(b)
            if b.strip() == "7":
                hi = 7  # "5-7" is Friday to Sunday
            if hi < lo:
                raise ValueError(f"day range {rng!r} runs backwards")
        else:
            lo = hi = _cron_day(rng)
        days.update(d % 7 for d in range(lo, hi + 1, step))
    return ",".join(_CRON_DAYS[d] for d in sorted(days))


def cron_fields(crontab: str) -> dict[str, str]:
    """The five crontab fields as APScheduler CronTrigger arguments, days of week as cron means them."""
    minute, hour, day, month, day_of_week = crontab.split()
    return {"minute": minute, "hour": hour, "day": day, "month": month,
            "day_of_week": cron_day_of_week(day_of_week)}


def parse_schedule(value: str) -> dict[str, Any]:
    """Parse "every 6h" or a 5-field cron ("0 7 * * 1-5") into APScheduler trigger arguments."""
    text = " ".join(value.split())
    m = _INTERVAL.match(text)
    if m:
        seconds = int(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        if seconds <= 0:
            raise ValueError("an interval must be positive")
        return {"trigger": "interval", "seconds": seconds}
    fields = text.split(" ")
    if len(fields) == 5:
        from apscheduler.triggers.cron import CronTrigger

        try:
            cron = cron_fields(text)
            CronTrigger(**cron)
        except ValueError as exc:
            raise ValueError(f"invalid cron expression {value!r}: {exc}") from exc
        return {"trigger": "cron", "crontab": text, "fields": cron}
    raise ValueError(f'schedule {value!r} is neither "every N(s|m|h|d)" nor a 5-field cron expression')


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Defaults(_Strict):
    """Settings every source inherits unless it sets its own."""

    schedule: str = "every 6h"
    timeout: float = Field(60, gt=0, description="seconds for one download")
    max_bytes: int = Field(50 * 1024 * 1024, gt=0, description="largest body accepted")
    delay: float = Field(2.0, ge=0, description="seconds between requests to one host")
    concurrency_per_host: int = Field(1, ge=1, le=16)
    retries: int = Field(2, ge=0, le=10, description="retries on 5xx and timeouts")
    backoff: float = Field(2.0, ge=0, description="first retry delay in seconds; doubles each retry")
    max_retry_after: float = Field(120, ge=0, description="longest Retry-After honoured, seconds")
    user_agent: str = "regwatch/0.1 (regulatory change tracker)"
    obey_robots: bool = True

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str) -> str:
        parse_schedule(v)
        return v


class SourceConfig(_Strict):
    """One configured entry point: a page, a document (PDF) or a listing page."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=100)]
    url: str
    document: str | None = None
    label: str | None = None
    selector: str | None = None
    exclude: list[str] = Field(default_factory=list)
    follow: list[str] = Field(default_factory=list, description="URL patterns of publications to follow")
    follow_selector: str | None = None
    max_follow: int = Field(100, ge=1)
    schedule: str | None = None
    timeout: float | None = Field(None, gt=0)
    max_bytes: int | None = Field(None, gt=0)
    delay: float | None = Field(None, ge=0)
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError(f"url must be an http(s) URL, got {v!r}")
        return v

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str | None) -> str | None:
        if v is not None:
            parse_schedule(v)
        return v

    @field_validator("selector", "follow_selector")
    @classmethod
    def _css(cls, v: str | None) -> str | None:
        if v is not None:
            import soupsieve

            try:
                soupsieve.compile(v)
            except Exception as exc:  # soupsieve raises its own SelectorSyntaxError
                raise ValueError(f"invalid CSS selector {v!r}: {exc}") from exc
        return v


class LineageEntry(_Strict):
    """A lineage link stated in config: `document` (found on a listing page) is a version of
    the configured document `of`, or with `reject`, is not."""

    document: str
    of: str
    label: str | None = Field(None, description="label of the document's versions in the lineage")
    before: str | None = Field(None, description="place its versions before this label, source or document")
    reject: bool = False

    @model_validator(mode="after")
    def _reject_alone(self) -> LineageEntry:
        if self.reject and (self.label or self.before):
            raise ValueError("a rejected link takes no label or before")
        return self


class Config(_Strict):
    """The whole config.yaml."""

    database: str = "regwatch.db"
    defaults: Defaults = Field(default_factory=Defaults)
    sources: list[SourceConfig] = Field(default_factory=list)
    channels: dict[str, Channel] = Field(default_factory=dict, description="where alerts go")
    subscriptions: list[Subscription] = Field(default_factory=list, description="who gets which alerts")
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    lineage: list[LineageEntry] = Field(default_factory=list, description="links confirmed or rejected")
    path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        seen: set[str] = set()
        for src in self.sources:
            if src.name in seen:
                raise ValueError(f"duplicate source name {src.name!r}")
            seen.add(src.name)
        return self

    @field_validator("channels", mode="before")
    @classmethod
    def _channel_kinds(cls, v: Any) -> Any:
        # A channel named `email` or `slack` is of that kind without saying `channel:`.
        if isinstance(v, dict):
            return {name: ({**ch, "channel": name} if isinstance(ch, dict) and "channel" not in ch
                           and name in ("email", "slack") else ch)
                    for name, ch in v.items()}
        return v

    @model_validator(mode="after")
    def _alerts(self) -> Config:
        self.channels = resolve_channels(self.channels)
        check_subscriptions(self.subscriptions, self.channels, self.alerts.operators)
        if self.alerts.operators is None:
            # The channel named `ops` is the operators' unless config says otherwise.
            self.alerts.operators = ["ops"] if "ops" in self.channels else []
        return self

    @field_validator("lineage")
    @classmethod
    def _lineage(cls, entries: list[LineageEntry], info: ValidationInfo) -> list[LineageEntry]:
        sources = info.data.get("sources") or []
        pages = {s.document or s.name for s in sources if not s.follow}
        configured = {s.document or s.name for s in sources}
        seen: set[tuple[str, str]] = set()
        confirmed: dict[str, str] = {}
        for k, e in enumerate(entries):
            if e.of not in pages:
                known = ", ".join(sorted(pages)) or "none"
                raise ValueError(f"lineage[{k}].of: {e.of!r} is not the document of a configured page source "
                                 f"(configured: {known})")
            if e.document in configured:
                raise ValueError(f"lineage[{k}].document: {e.document!r} is a configured document; "
                                 "sources of one document share `document:` instead")
            if (e.document, e.of) in seen:
                raise ValueError(f"lineage[{k}]: {e.document!r} of {e.of!r} is stated twice")
            seen.add((e.document, e.of))
            if not e.reject:
                if e.document in confirmed:
                    raise ValueError(f"lineage[{k}]: {e.document!r} is already confirmed of {confirmed[e.document]!r} "
                                     "(a document belongs to one lineage)")
                confirmed[e.document] = e.of
        return entries

    @property
    def database_path(self) -> Path:
        """The database file, relative to the config file's folder."""
        base = self.path.parent if self.path else Path.cwd()
        return (base / os.path.expanduser(self.database)).resolve()

    def crawl_sources(self, names: list[str] | None = None) -> list[CrawlSource]:
        """The sources to crawl (all enabled ones, or those named), with defaults applied."""
        if names:
            unknown = [n for n in names if n not in {s.name for s in self.sources}]
            if unknown:
                known = ", ".join(s.name for s in self.sources) or "none"
                raise ConfigError(f"unknown source(s): {', '.join(unknown)} (configured: {known})")
        chosen = [s for s in self.sources if (s.name in names if names else s.enabled)]
        d = self.defaults
        return [
            CrawlSource(
                name=s.name,
                url=s.url,
                document=s.document or s.name,
                label=s.label,
                selector=s.selector,
                exclude=list(s.exclude),
                follow=list(s.follow),
                follow_selector=s.follow_selector,
                max_follow=s.max_follow,
                timeout=s.timeout or d.timeout,
                max_bytes=s.max_bytes or d.max_bytes,
                delay=d.delay if s.delay is None else s.delay,
            )
            for s in chosen
        ]

    def schedule_of(self, source: SourceConfig) -> str:
        """The source's schedule, or the default one."""
        return source.schedule or self.defaults.schedule


def find_config(path: str | Path | None) -> Path:
    """The config file to use: `path`, else $REGWATCH_CONFIG, else ./config.yaml."""
    return Path(path or os.environ.get(CONFIG_ENV) or "config.yaml")


def load_config(path: str | Path | None = None) -> Config:
    """Load and validate a config file; ConfigError names the field and the line on failure."""
    p = find_config(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found (use --config PATH or ${CONFIG_ENV})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read config file: {exc}") from exc
    return parse_config(text, p)


def parse_config(text: str, path: Path | None = None) -> Config:
    """Validate config text (path is used for messages and relative paths)."""
    where = str(path or "<config>")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{where}{line}: invalid YAML: {getattr(exc, 'problem', exc)}") from exc
    if node is None:
        data: Any = {}
        lines: dict[tuple, int] = {}
    else:
        lines = {}
        try:
            _index_lines(node, (), lines)
        except _DuplicateKey as exc:
            raise ConfigError(f"{where}{exc}") from None
        data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ConfigError(f"{where}:1: the config must be a mapping of keys (database, sources, ...)")
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, where, lines)) from None
    cfg.path = path.resolve() if path else None
    return cfg


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int, first: int) -> None:
        super().__init__(f":{line}: duplicate key {key!r} (first at line {first}); YAML would silently keep the last")


def _index_lines(node: yaml.Node, path: tuple, out: dict[tuple, int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value in seen:
                raise _DuplicateKey(key.value, key.start_mark.line + 1, seen[key.value])
            seen[key.value] = key.start_mark.line + 1
            _index_lines(value, path + (key.value,), out)
            # Errors about a key point at the key's line, not its value's.
            out[path + (key.value,)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, path + (i,), out)


def _format_errors(exc: ValidationError, where: str, lines: dict[tuple, int]) -> str:
    messages = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        line = None
        for k in range(len(loc), -1, -1):  # the deepest part of the path that exists in the file
            if loc[:k] in lines:
                line = lines[loc[:k]]
                break
        field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling)"
        messages.append(f"{where}:{line or 1}: {field or '(top level)'}: {msg}")
    return "invalid config:\n  " + "\n  ".join(messages)
