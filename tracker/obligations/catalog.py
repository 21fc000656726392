"""The obligation catalog: AI Act provisions and Code of Practice commitments and measures,
shipped as data (`catalog.yaml`) and validated on load.

Why data and not code: the catalog is what a compliance team reviews and corrects; every
entry carries where it comes from (`cited_from`), and a correction is a data change with no
code to read. Validation is pydantic's, as for config.yaml, so a bad entry names its id and
field.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")

Kind = Literal[
    "article", "paragraph", "point", "annex", "annex-section", "annex-point",
    "chapter", "commitment", "measure", "appendix",
]
Applicability = Literal["all-gpai", "systemic-risk", "third-country", "signatories", "commission"]


class CatalogError(Exception):
    """Raised when catalog.yaml is missing or invalid, from `load_catalog`."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Alias(_Strict):
    """How an entry was numbered and titled in an earlier version (a draft)."""

    version: str  # "Third draft", "Second draft"
    number: str | None = None  # "Commitment II.12"
    title: str | None = None
    cited_from: str  # where the correspondence is stated


class Dates(_Strict):
    """When a duty applies."""

    applies_from: date | None = None
    legacy_models_until: date | None = None  # models placed on the market before applies_from
    cited_from: str | None = None


class Source(_Strict):
    """A text the catalog's entries come from."""

    title: str
    url: str | None = None
    corpus: list[str] = Field(default_factory=list)  # files under ../shared/corpus
    # Words that name this text in a document's headings ("safety and security"): they tell
    # which chapter a "Commitment 1" heading belongs to.
    match: list[str] = Field(default_factory=list)


class Obligation(_Strict):
    """One provision, commitment or measure."""

    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9.]+)+$")
    title: str
    source: str  # key of `sources`: aia, cop-transparency, cop-copyright, cop-safety-security
    kind: Kind
    ref: str  # canonical citation: "Article 53(1)(a)", "Annex XI, Section 2", "Commitment 9", "Measure 9.3"
    parent: str | None = None
    summary: str = ""
    citations: list[str] = Field(default_factory=list)  # forms as they appear in texts
    terms: list[str] = Field(default_factory=list)  # key terms of the duty (lower case)
    applies_to: list[Applicability] = Field(default_factory=list)
    exemptions: list[str] = Field(default_factory=list)  # ids of provisions that exempt from it
    dates: Dates | None = None
    serves: list[str] = Field(default_factory=list)  # Code entries: the AI Act ids they implement
    aliases: list[Alias] = Field(default_factory=list)
    cited_from: str  # file (and place) or public source the entry is built from


class Catalog(_Strict):
    """The whole catalog: its version, the texts it draws on and the entries."""

    version: str
    sources: dict[str, Source]
    obligations: list[Obligation]

    @model_validator(mode="after")
    def _links(self) -> Catalog:
        ids = [o.id for o in self.obligations]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate ids: {', '.join(dupes)}")
        known = set(ids)
        problems = []
        for o in self.obligations:
            if o.source not in self.sources:
                problems.append(f"{o.id}: unknown source {o.source!r}")
            for field, refs in (("parent", [o.parent] if o.parent else []), ("serves", o.serves),
                                ("exemptions", o.exemptions)):
                problems += [f"{o.id}: {field} names unknown id {r!r}" for r in refs if r not in known]
            if o.parent == o.id:
                problems.append(f"{o.id}: is its own parent")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def get(self, obligation_id: str) -> Obligation | None:
        """The entry with this id, or None."""
        return self.by_id.get(obligation_id)

    @property
    def by_id(self) -> dict[str, Obligation]:
        """Entries by id."""
        return {o.id: o for o in self.obligations}

    def ancestors(self, obligation_id: str) -> list[str]:
        """Ids of the entry's parents, nearest first."""
        out, by_id = [], self.by_id
        cur = by_id.get(obligation_id)
        while cur is not None and cur.parent and cur.parent not in out:
            out.append(cur.parent)
            cur = by_id.get(cur.parent)
        return out

    def children(self, obligation_id: str) -> list[str]:
        """Ids of the entries whose parent is this one."""
        return [o.id for o in self.obligations if o.parent == obligation_id]


# libyaml's parser and constructor when PyYAML was built with it: 50 ms on the shipped
# catalog, against 350 ms for the pure-Python SafeLoader.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_catalog(path: Path | None = None) -> Catalog:
    """Load and validate the catalog (the shipped one by default)."""
    p = path or CATALOG_PATH
    try:
        data = yaml.load(p.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
    except FileNotFoundError:
        raise CatalogError(f"{p}: obligation catalog not found") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{p}: invalid YAML: {exc}") from exc
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = list(err["loc"])
            if len(loc) >= 2 and loc[0] == "obligations" and isinstance(loc[1], int):
                items = (data or {}).get("obligations") or []
                if loc[1] < len(items) and isinstance(items[loc[1]], dict):
                    loc[1] = items[loc[1]].get("id", loc[1])
            lines.append(f"{'.'.join(str(x) for x in loc) or '(top level)'}: {err['msg']}")
        raise CatalogError(f"{p}: invalid obligation catalog:\n  " + "\n  ".join(lines)) from None


@lru_cache(maxsize=1)
def shipped_catalog() -> Catalog:
    """The catalog shipped with regwatch, loaded once per process."""
    return load_catalog()


def catalog_rows(catalog: Catalog) -> list[dict]:
    """The catalog's entries as plain dicts (JSON-safe), for the `obligations` table."""
    return [o.model_dump(mode="json") for o in catalog.obligations]


def descendants(catalog: Catalog, obligation_id: str) -> list[str]:
    """The id and the ids of everything below it (children, their children, ...)."""
    out, todo = [], [obligation_id]
    kids: dict[str, list[str]] = {}
    for o in catalog.obligations:
        if o.parent:
            kids.setdefault(o.parent, []).append(o.id)
    while todo:
        cur = todo.pop()
        if cur not in out:
            out.append(cur)
            todo += kids.get(cur, [])
    return out


def norm_id(text: str) -> str:
    """An id as typed by a user ("AIA-55-1-C ", "cop-ss-m9.3") in canonical form."""
    return re.sub(r"\s+", "", text).casefold()
