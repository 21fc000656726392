"""What the crawler needs to know about one source (built by tracker.config from config.yaml)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class CrawlSource:
    """One entry point to fetch: a page or PDF, or a listing page whose links are followed."""

    name: str
    url: str
    document: str
    label: str | None = None
    selector: str | None = None
    exclude: list[str] = field(default_factory=list)
    follow: list[str] = field(default_factory=list)
    follow_selector: str | None = None
    max_follow: int = 100
    timeout: float = 60.0
    max_bytes: int = 50 * 1024 * 1024
    delay: float = 2.0

    @property
    def kind(self) -> str:
        """"listing" when the source follows links to publications, else "page"."""
        return "listing" if self.follow else "page"

    def extraction_options(self, followed: bool) -> tuple[str | None, list[str] | None]:
        """(selector, exclude) for a body fetched for this source: none for a publication
        followed from a listing, whose own page the listing's selector does not describe."""
        return (None, None) if followed else (self.selector, self.exclude)

    def to_dict(self) -> dict:
        """Plain dict (JSON-safe) of this source."""
        return asdict(self)
