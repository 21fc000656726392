"""Which subscriptions and channels a change goes to: a pure function of the change's hunks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from notifications.config import CLASSES, Subscription
from notifications.outbox import iso
from notifications.schedule import next_digest_at
from store.records import Route


@dataclass(frozen=True)
class HunkFacts:
    """What routing needs of one hunk: its class, significance and the obligations it touches."""

    classification: str
    significance: float
    obligations: frozenset[str] = field(default_factory=frozenset)


def matches(sub: Subscription, document: str, hunks: Iterable[HunkFacts],
            expand: Callable[[str], Iterable[str]] = lambda oid: (oid,)) -> bool:
    """True when one hunk of the change passes every filter of `sub` (document, class,
    significance, obligations); `expand` gives the ids an obligation id selects (itself and
    everything below it)."""
    if sub.documents is not None and document not in sub.documents:
        return False
    wanted = None if sub.obligations is None else {i for o in sub.obligations for i in expand(o)}
    floor = CLASSES.index(sub.min_class)
    # One hunk must pass all filters at once: a cosmetic hunk on the obligation plus a
    # substantive one elsewhere is not a substantive change to that obligation.
    return any(
        CLASSES.index(h.classification) >= floor
        and h.significance >= sub.min_significance
        and (wanted is None or bool(h.obligations & wanted))
        for h in hunks
    )


def route(document: str, hunks: list[HunkFacts], subscriptions: list[Subscription],
          expand: Callable[[str], Iterable[str]] = lambda oid: (oid,),
          now: datetime | None = None) -> list[Route]:
    """The alerts a change of `document` with `hunks`, detected at `now`, queues: one per
    matching subscription and channel, with the send time of its digest period if any."""
    now = now or datetime.now(UTC)
    out = []
    for sub in subscriptions:
        if matches(sub, document, hunks, expand):
            at = iso(next_digest_at(sub.digest, now)) if sub.digest else None
            out += [Route(sub.name, ch, at) for ch in sub.channels]
    return out
