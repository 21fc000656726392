"""The `regwatch` command line: parse, make one library call, render, exit.

Exit codes: 0 success, 1 differences found (diff/compare --exit-code), 2 usage or config
error, 3 partial failure (some sources or alerts failed).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

# Commands import what they use when they run: `regwatch compare` must not pay for Rich,
# sqlite-utils, pydantic and Scrapy, which it never touches (startup was 0.4 s of a 5 MB
# comparison's budget).
if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from tracker.config import Config

EXIT_DIFFERENCES = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3


class RegwatchError(click.ClickException):
    """A usage, config or database error: printed without a traceback, exit code 2."""

    exit_code = EXIT_USAGE


def _console(stderr: bool = False) -> Console:
    """A console for output. Rich turns colour off when not on a terminal and under NO_COLOR;
    off a terminal it would also wrap tables at 80 columns, which mangles URLs in logs and
    pipes, so it gets a wide line there."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 200
    return Console(stderr=stderr, highlight=False, width=width)


def _table(**kwargs: Any) -> Table:
    """A Rich table (Rich is imported on first use)."""
    from rich.table import Table

    return Table(**kwargs)


def _config(ctx: click.Context) -> Config:
    from tracker.config import ConfigError, load_config

    obj = ctx.ensure_object(dict)
    if "config" not in obj:
        try:
            obj["config"] = load_config(obj.get("config_path"))
        except ConfigError as exc:
            raise RegwatchError(str(exc)) from None
    return obj["config"]


def _open(config: Config, readonly: bool = False):
    from store.db import StoreError, open_db

    try:
        return open_db(config.database_path, readonly=readonly)
    except StoreError as exc:
        raise RegwatchError(str(exc)) from None


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _reader_gone() -> None:
    """After a BrokenPipeError on stdout (`regwatch query ... | head`): stop quietly, as other
    command-line tools do, instead of a traceback when Python flushes stdout at exit."""
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - left for Python to close at exit


def _resolve_document(db, document: str) -> str:
    from store.queries import document_ids

    known = document_ids(db)
    if document in known:
        return document
    raise RegwatchError(f"unknown document {document!r}; known documents: {', '.join(known) or 'none yet (run `regwatch crawl`)'}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), envvar="REGWATCH_CONFIG",
    help="Config file (default ./config.yaml, or $REGWATCH_CONFIG).",
)
@click.version_option(package_name="regwatch")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Track changes to regulatory publications (EU GPAI Code of Practice, AI Act, AI Office)."""
    ctx.ensure_object(dict)["config_path"] = config_path


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON only.")
@click.pass_context
def crawl(ctx: click.Context, names: tuple[str, ...], as_json: bool) -> None:
    """Fetch sources (all enabled ones, or those NAMES) and store new versions.

    Exits 0 when every source was fetched (changed or not), 3 when any failed.

    Example: regwatch crawl cop-safety-security
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from crawler.runner import CrawlError
    from store.db import StoreError
    from tracker.config import ConfigError
    from tracker.pipeline import crawl as run

    config = _config(ctx)
    try:
        total = len(config.crawl_sources(list(names)))
    except ConfigError as exc:
        raise RegwatchError(str(exc)) from None
    err = _console(stderr=True)
    progress = Progress(
        TextColumn("[bold]crawl"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.description}"), console=err, transient=True, disable=as_json or not err.is_terminal,
    )
    with progress:
        task = progress.add_task("", total=total)

        def on_event(event: dict[str, Any]) -> None:
            if event.get("event") != "fetched":
                return
            if event.get("followed"):
                progress.update(task, total=(progress.tasks[0].total or 0) + 1)
            progress.update(task, advance=1, description=event["source"])

        try:
            summary = run(config, list(names) or None, on_event=on_event)
        except CrawlError as exc:
            raise RegwatchError(str(exc)) from None
        except StoreError as exc:
            raise RegwatchError(str(exc)) from None
    if as_json:
        _emit_json({"fetches": summary.fetches, "failed": len(summary.failed),
                    "new_versions": len(summary.new_versions), "tracking": summary.tracking})
    else:
        table = _table(title="crawl summary")
        for col in ("source", "document", "outcome", "version", "HTTP", "error"):
            table.add_column(col, overflow="fold")
        for f in summary.fetches:
            style = {"failed": "red", "new_version": "green"}.get(f["outcome"], "")
            table.add_row(f["source"], f["document"], f"[{style}]{f['outcome']}[/]" if style else f["outcome"],
                          str(f["version"] or ""), str(f["http_status"] or ""), f["error"] or "")
        out = _console()
        out.print(table)
        out.print(f"{len(summary.fetches)} fetched, {len(summary.new_versions)} new versions, "
                  f"{len(summary.failed)} failed; database: {config.database_path}")
        for t in summary.tracking:
            what = "stopped being tracked" if t["event"] == "tracking-failure" else "is tracked again"
            out.print(f"{t['source']} {what}: {t['alerts']} operators' alert(s) queued")
    if summary.failed:
        if not as_json:
            names_failed = ", ".join(sorted({f["source"] for f in summary.failed}))
            click.echo(f"error: failed: {names_failed}", err=True)
        ctx.exit(EXIT_PARTIAL)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="JSON only on stdout.")
@click.pass_context
def sources(ctx: click.Context, as_json: bool) -> None:
    """List configured sources with their last fetch and tracking state (failing or ok).

    Example: regwatch sources --json
    """
    from store.queries import last_fetches, version_counts
    from store.tracking import tracking_states

    config = _config(ctx)

    last: dict[str, dict] = {}
    counts: dict[str, int] = {}
    tracking: dict[str, dict] = {}
    if config.database_path.exists():
        db = _open(config, readonly=True)
        last, counts = last_fetches(db), version_counts(db)
        tracking = {t["source"]: t for t in tracking_states(db)}
        db.close()
    rows = []
    for s in config.sources:
        doc = s.document or s.name
        rows.append({
            "name": s.name, "url": s.url, "document": doc, "kind": "listing" if s.follow else "page",
            "label": s.label, "schedule": config.schedule_of(s), "enabled": s.enabled,
            "versions": counts.get(doc, 0), "last_fetch": last.get(s.name),
            "tracking": tracking.get(s.name),
        })
    if as_json:
        _emit_json(rows)
        return
    table = _table()
    for col in ("name", "kind", "schedule", "versions", "last fetch", "status", "url"):
        table.add_column(col, overflow="fold")
    for r in rows:
        lf = r["last_fetch"] or {}
        status = lf.get("outcome", "never fetched")
        if lf.get("error"):
            status = f"[red]{status}: {lf['error']}[/]"
        t = r["tracking"]
        if t and t["state"] == "failing":
            status += f" [bold red](tracking failure since {t['since'][:16]}, {t['failures']} failed)[/]"
        table.add_row(r["name"], r["kind"], r["schedule"], str(r["versions"]), lf.get("started_at", ""), status, r["url"])
    _console().print(table)


@cli.command("documents")
@click.option("--json", "as_json", is_flag=True, help="JSON only on stdout.")
@click.pass_context
def documents_cmd(ctx: click.Context, as_json: bool) -> None:
    """List tracked documents (configured and found on listing pages).

    Example: regwatch documents
    """
    from store.queries import documents

    db = _open(_config(ctx), readonly=True)
    rows = documents(db)
    db.close()
    if as_json:
        _emit_json(rows)
        return
    table = _table()
    for col in ("document", "versions", "last change", "title"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["document"], str(r["versions"]), r["last_change"] or "", r["title"] or "")
    _console().print(table)


@cli.command("history")
@click.argument("document")
@click.option("--json", "as_json", is_flag=True, help="JSON only on stdout.")
@click.pass_context
def history_cmd(ctx: click.Context, document: str, as_json: bool) -> None:
    """List the versions of DOCUMENT in publication order (config order of its sources, then arrival).

    Example: regwatch history cop-safety-security --json
    """
    from store.versions import history

    db = _open(_config(ctx), readonly=True)
    document = _resolve_document(db, document)
    versions = history(db, document)
    db.close()
    rows = [
        {
            "version": v.number, "label": v.label, "first_seen": v.first_seen, "url": v.url,
            "final_url": v.final_url, "content_type": v.content_type, "title": v.title,
            "text_sha256": v.text_sha256, "raw_sha256": v.raw_sha256, "raw_bytes": v.raw_size,
            "text_chars": v.text_chars, "headings": len(v.outline), "extractor_version": v.extractor_version,
        }
        for v in versions
    ]
    if as_json:
        _emit_json(rows)
        return
    table = _table(title=document)
    for col in ("version", "label", "first seen", "type", "headings", "chars", "url"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(str(r["version"]), r["label"] or "", r["first_seen"], r["content_type"],
                      str(r["headings"]), str(r["text_chars"]), r["final_url"] or r["url"])
    _console().print(table)


@cli.command()
@click.argument("document")
@click.argument("version", required=False)
@click.option("--as-of", "as_of", metavar="DATE",
              help="The version current at DATE (YYYY-MM-DD, a whole day, or an ISO time; UTC).")
@click.option("--outline", is_flag=True, help="Only the headings.")
@click.pass_context
def show(ctx: click.Context, document: str, version: str | None, as_of: str | None, outline: bool) -> None:
    """Print the extracted text of DOCUMENT at VERSION (number or label; default: latest).

    With --as-of DATE, the text as it stood then: among the versions first seen by DATE (a day
    counts whole; a time without offset is UTC), the last in publication order (config order of
    the sources, then arrival), which is what regwatch showed as the latest at that time. A
    draft fetched after the final does not replace the final. Exit 2 when the document had no
    version yet.

    Example: regwatch show cop-safety-security 2

    Example: regwatch show cop-safety-security --as-of 2025-07-01
    """
    from store.versions import find_version, history, version_as_of, version_text

    if as_of is not None and version is not None:
        raise click.UsageError("give VERSION or --as-of DATE, not both")
    at = None
    if as_of is not None:
        from tracker.when import parse_instant

        try:
            at = parse_instant(as_of, day_end=True)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--as-of") from None
    db = _open(_config(ctx), readonly=True)
    document = _resolve_document(db, document)
    if at is not None:
        versions = history(db, document)
        v = version_as_of(versions, at)
        if v is None:
            first = min((x.first_seen for x in versions), default=None)
            since = f"; its first version was first seen {first}" if first else ""
            raise RegwatchError(f"{document} had no version yet as of {as_of} ({at:%Y-%m-%d %H:%M:%S} UTC){since}")
        click.echo(f"{document} as of {at:%Y-%m-%d %H:%M:%S} UTC: {_vlabel(v)}", err=True)
    else:
        v = find_version(db, document, version)
    if v is None:
        raise RegwatchError(f"{document} has no version {version!r}")
    if outline:
        for h in v.outline:
            click.echo("  " * (h["level"] - 1) + h["text"])
    else:
        click.echo(version_text(db, v.id), nl=False)
    db.close()


FORMATS = ["unified", "word", "side-by-side", "stat", "json", "html"]


def _diff_options(f):
    """Options shared by `diff` and `compare`."""
    f = click.option("--exit-code", is_flag=True, help="Exit 1 when there are changes at or above --min-class.")(f)
    f = click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
                     help="Write to this file instead of stdout (handy for html).")(f)
    f = click.option("--min-class", type=click.Choice(["cosmetic", "editorial", "substantive"]),
                     default="cosmetic", show_default=True, help="Hide hunks below this class.")(f)
    f = click.option("--section", help="Only sections whose heading path matches (regex or text).")(f)
    f = click.option("--obligation", "obligation", metavar="ID",
                     help="Only hunks linked to this obligation or one below it (see `regwatch obligations`).")(f)
    f = click.option("--format", "fmt", type=click.Choice(FORMATS), default="unified", show_default=True)(f)
    return f


def _obligation_ids(obligation: str | None) -> set[str] | None:
    """The ids `--obligation ID` selects: ID and everything below it; a usage error if unknown."""
    if obligation is None:
        return None
    from tracker.obligations.catalog import descendants, norm_id, shipped_catalog

    catalog = shipped_catalog()
    oid = norm_id(obligation)
    if catalog.get(oid) is None:
        near = [o.id for o in catalog.obligations if oid in o.id][:8]
        hint = f"; did you mean {', '.join(near)}?" if near else "; see `regwatch obligations`"
        raise RegwatchError(f"unknown obligation {obligation!r}{hint}")
    return set(descendants(catalog, oid))


def _emit_change(ctx: click.Context, change, fmt: str, *, title: str, old_label: str, new_label: str,
                 section: str | None, min_class: str, output: str | None, exit_code: bool,
                 obligation: str | None = None) -> None:
    from tracker.diff import select
    from tracker.render import RENDERERS

    change = select(change, section=section, min_class=min_class, obligations=_obligation_ids(obligation))
    on_terminal = output is None and sys.stdout.isatty()
    colour = on_terminal and fmt not in ("json", "html") and "NO_COLOR" not in os.environ
    # JSON is indented for a person at a terminal, on one line for a pipe or a file.
    rendered = RENDERERS[fmt](change, title=title, old_label=old_label, new_label=new_label, colour=colour,
                              pretty=on_terminal)
    if output:
        Path(output).write_text(rendered, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(rendered, nl=False, color=colour)
    if exit_code and change.hunks:
        ctx.exit(EXIT_DIFFERENCES)


@cli.command("diff")
@click.argument("document")
@click.argument("old", required=False)
@click.argument("new", required=False)
@_diff_options
@click.pass_context
def diff_cmd(ctx: click.Context, document: str, old: str | None, new: str | None, fmt: str,
             section: str | None, obligation: str | None, min_class: str, output: str | None,
             exit_code: bool) -> None:
    """Show what changed in DOCUMENT between versions OLD and NEW of its lineage (numbers,
    labels, or DOC:NUMBER for a linked document's; default: the last two).

    Example: regwatch diff cop-safety-security "Third draft" Final --format html -o diff.html
    """
    from store.lineage import pick_in_lineage
    from store.versions import version_text
    from tracker.diff import diff_texts
    from tracker.lineage import lineage_for

    config = _config(ctx)
    db = _open(config, readonly=True)
    document = _resolve_document(db, document)
    # One read of the lineage (other URLs, linked documents); both references resolve against it.
    _root, versions = lineage_for(db, config, document)
    if len(versions) < 2 and (old is None or new is None):
        raise RegwatchError(f"{document} has {len(versions)} version(s): nothing to compare yet")
    v_old = pick_in_lineage(versions, old, document) if old is not None else versions[-2]
    v_new = pick_in_lineage(versions, new, document) if new is not None else versions[-1]
    for ref, v in ((old, v_old), (new, v_new)):
        if v is None:
            raise RegwatchError(f"{document} has no version {ref!r} (see `regwatch lineage {document}`)")
    change = diff_texts(version_text(db, v_old.id), version_text(db, v_new.id))
    db.close()
    _emit_change(ctx, change, fmt, title=document, old_label=_vlabel(v_old), new_label=_vlabel(v_new),
                 section=section, min_class=min_class, output=output, exit_code=exit_code,
                 obligation=obligation)


def _vlabel(v) -> str:
    name = v.ref if getattr(v, "linked", False) else f"v{v.number}"
    return name + (f" ({v.label})" if v.label else "") + f", {v.first_seen[:10]}"


@cli.command()
@click.argument("old")
@click.argument("new")
@_diff_options
@click.pass_context
def compare(ctx: click.Context, old: str, new: str, fmt: str, section: str | None, obligation: str | None,
            min_class: str, output: str | None, exit_code: bool) -> None:
    """Compare two files or URLs (HTML, PDF, Markdown or plain text, detected by content).

    Example: regwatch compare third-draft.html final.pdf --format stat
    """
    from tracker.compare import load_text
    from tracker.diff import diff_texts
    from tracker.gc_pause import paused_gc

    with paused_gc():  # extraction and rendering allocate in bulk too (see tracker/gc_pause.py)
        try:
            old_text, new_text = load_text(old), load_text(new)
        except ValueError as exc:
            raise RegwatchError(str(exc)) from None
        change = diff_texts(old_text, new_text)
        _emit_change(ctx, change, fmt, title=f"{old} → {new}", old_label=old, new_label=new,
                     section=section, min_class=min_class, output=output, exit_code=exit_code,
                     obligation=obligation)


@cli.command()
@click.option("--since", help="Only changes detected on or after this date (YYYY-MM-DD).")
@click.option("--document", help="Only this document.")
@click.option("--obligation", metavar="ID", help="Only changes touching this obligation or one below it.")
@click.option("--json", "as_json", is_flag=True, help="JSON only on stdout.")
@click.pass_context
def changes(ctx: click.Context, since: str | None, document: str | None, obligation: str | None,
            as_json: bool) -> None:
    """List stored changes, newest first.

    Example: regwatch changes --since 2025-07-01 --obligation aia-55-1-c
    """
    from store.changes import list_changes, top_hunks

    ids = _obligation_ids(obligation)
    db = _open(_config(ctx), readonly=True)
    if document:
        document = _resolve_document(db, document)
    rows = list_changes(db, since=since, document=document, obligations=sorted(ids) if ids is not None else None)
    for r in rows:
        r["top"] = top_hunks(db, r["id"], limit=3)
    db.close()
    if as_json:
        _emit_json(rows)
        return
    table = _table()
    for col in ("detected", "document", "versions", "substantive", "editorial", "cosmetic", "max sig.", "top change",
                "obligations"):
        table.add_column(col, overflow="fold")
    for r in rows:
        top = r["top"][0] if r["top"] else None
        what = f"{top['section'] or ''}: {top['reasons'][0] if top['reasons'] else top['kind']}" if top else ""
        touched = ", ".join(dict.fromkeys(link["id"] for t in r["top"] for link in t["obligations"]))
        table.add_row(r["detected_at"][:16], r["document"], f"{r['from_version']} → {r['to_version']}",
                      str(r["substantive"]), str(r["editorial"]), str(r["cosmetic"]),
                      f"{r['max_significance']:.2f}", what, touched)
    _console().print(table)

@cli.command("query")
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default=None,
              help="Output format (default table).")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A value for :NAME in SQL (repeatable).")
@click.pass_context
def query_cmd(ctx: click.Context, sql: str, fmt: str | None, as_json: bool, params: tuple[str, ...]) -> None:
    """Run one read-only SQL statement (SQL, or - to read it from stdin) on the database and
    print its rows, with the column names as headers.

    The database is opened read-only: a statement that would write (INSERT, UPDATE, DELETE,
    DROP, ATTACH, a PRAGMA that sets, also after a `;` or inside WITH) is refused with exit 2
    and the database is untouched. Views for common questions (document_timeline,
    latest_versions, substantive_changes, section_history, changes_per_obligation,
    obligation_changes) and the function version_text(version_id) are there to use; see
    docs/schema.md.

    Example: regwatch query "SELECT document, label, first_seen FROM latest_versions"

    Example: regwatch query --format csv -p doc=cop-safety-security "SELECT * FROM document_timeline WHERE document = :doc"
    """
    from store.db import StoreError
    from store.query_sql import QueryError, QueryRefused, ReadOnlyDatabase
    from tracker.tabular import write_rows

    if as_json and fmt not in (None, "json"):
        raise click.UsageError(f"--json and --format {fmt} disagree")
    fmt = "json" if as_json else fmt or "table"
    values = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--param")
        values[name.strip().lstrip(":")] = value
    if sql == "-":
        sql = sys.stdin.read()
    config = _config(ctx)
    try:
        db = ReadOnlyDatabase(config.database_path)
    except StoreError as exc:
        raise RegwatchError(str(exc)) from None
    out = sys.stdout
    try:
        result = db.execute(sql, values)
        count = write_rows(out, result.columns, result.rows, fmt)
        out.flush()
    except (QueryRefused, QueryError) as exc:
        raise RegwatchError(str(exc)) from None
    except BrokenPipeError:
        _reader_gone()
        return
    finally:
        db.close()
    if fmt == "table":
        click.echo(f"{count} row{'s' if count != 1 else ''}", err=True)


@cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (whole or not at all) instead of stdout.")
@click.option("--since", metavar="DATE", help="Only changes detected at or after DATE (YYYY-MM-DD or ISO time, UTC).")
@click.option("--document", help="Only this document.")
@click.option("--obligation", metavar="ID",
              help="Only hunks linked to this obligation or one below it (and their changes).")
@click.pass_context
def export_cmd(ctx: click.Context, fmt: str, output: Path | None, since: str | None, document: str | None,
               obligation: str | None) -> None:
    """Export stored changes with their hunks and obligation links, oldest first.

    JSON: a list of changes, each with its hunks (section, kind, classification, significance,
    reasons, flags, old and new text) and each hunk with its obligations (id, ref, method,
    confidence, reason). CSV: one row per hunk, the change's columns repeated, obligations
    joined with ";". Changes are those between consecutive versions in publication order
    (as in the views of docs/schema.md); a change is detected when the later-seen of its two
    versions was first seen.

    Example: regwatch export --format csv --since 2025-07-01 --obligation aia-55 -o changes.csv
    """
    import sqlite3

    from tracker.export import WRITERS, ExportFilter, iter_changes, write_file_atomically
    from tracker.when import parse_instant

    try:
        since_at = parse_instant(since) if since is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    ids = _obligation_ids(obligation)
    if output is not None and not output.parent.is_dir():
        raise RegwatchError(f"cannot write {output}: no directory {output.parent}")
    db = _open(_config(ctx), readonly=True)
    if document:
        document = _resolve_document(db, document)
    selection = ExportFilter(since_at, document, frozenset(ids) if ids is not None else None)
    write = WRITERS[fmt]
    try:
        if output is None:
            count = write(sys.stdout, iter_changes(db, selection))
            sys.stdout.flush()
        else:
            count = write_file_atomically(output, lambda out: write(out, iter_changes(db, selection)))
    except BrokenPipeError:
        _reader_gone()
        return
    except (sqlite3.Error, OSError) as exc:
        raise RegwatchError(f"export failed, nothing written{f' to {output}' if output else ''}: {exc}") from None
    finally:
        db.close()
    if output is not None:
        click.echo(f"wrote {count} change{'s' if count != 1 else ''} to {output}", err=True)


@cli.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on (0.0.0.0 for every one: anyone who can reach it reads the database).")
@click.pass_context
def serve(ctx: click.Context, port: int, host: str) -> None:
    """Browse the database in Datasette, read-only, with regwatch's views, canned queries
    (timeline of a document, substantive changes since a date, changes touching an
    obligation, latest versions, history of a section, failing sources, a document as of a
    date) and version_text(). Needs Datasette: pip install 'regwatch[datasette]'.

    Example: regwatch serve --port 8001
    """
    import tempfile

    from tracker.datasette import serve as ds

    config = _config(ctx)
    if not ds.installed():
        raise RegwatchError(f"Datasette is not installed; install it with: {ds.INSTALL_HINT}")
    # Exists, and a database of an older regwatch gets the views before Datasette reads it.
    _open(config, readonly=True).close()
    path = config.database_path.resolve()
    with tempfile.TemporaryDirectory(prefix="regwatch-serve-") as tmp:
        metadata = ds.write_metadata(path, Path(tmp))
        click.echo(f"serving {path} read-only at http://{host}:{port}/{ds.database_name(path)} "
                   "(Ctrl-C to stop)", err=True)
        code = ds.run(ds.command(path, metadata, host, port))
    if code:
        raise RegwatchError(f"datasette exited with status {code}")


@cli.command("lineage")
@click.argument("document", required=False)
@click.option("--json", "as_json", is_flag=True, help="JSON only on stdout.")
@click.pass_context
def lineage_cmd(ctx: click.Context, document: str | None, as_json: bool) -> None:
    """List lineages (all configured documents, or the one DOCUMENT belongs to): their
    documents and sources, versions in publication order with labels and URLs, and links
    with their status (auto, candidate, confirmed, rejected) and evidence.

    Example: regwatch lineage cop-safety-security --json
    """
    from tracker.lineage import lineage_views

    config = _config(ctx)
    db = _open(config, readonly=True)
    if document is not None:
        document = _resolve_document(db, document)
    views = [v.to_json() for v in lineage_views(db, config, document)]
    db.close()
    if as_json:
        _emit_json(views)
        return
    out = _console()
    for view in views:
        table = _table(title=f"{view['lineage']}: {len(view['versions'])} versions in publication order")
        for col in ("#", "version", "label", "from", "type", "first seen", "url"):
            table.add_column(col, overflow="fold")
        for k, v in enumerate(view["versions"], start=1):
            table.add_row(str(k), v["ref"], v["label"] or "", v["stream"], v["content_type"], v["first_seen"][:16],
                          v["final_url"] or v["url"])
        out.print(table)
        if view["links"]:
            links = _table(title=f"links to {view['lineage']}")
            for col in ("document", "status", "title sim.", "content sim.", "evidence"):
                links.add_column(col, overflow="fold")
            for link in view["links"]:
                links.add_row(link["document"], link["status"], _sim(link["title_similarity"]),
                              _sim(link["content_similarity"]), _evidence_line(link["evidence"]))
            out.print(links)


def _sim(x: float | None) -> str:
    return "" if x is None else f"{x:.2f}"


def _evidence_line(evidence: dict) -> str:
    parts = []
    if evidence.get("config"):
        parts.append(f"config: {evidence['config']}")
    titles = (evidence.get("title") or {}).get("compared")
    if titles:
        parts.append(f"titles {titles[0]!r} ~ {titles[1]!r}")
    versions = (evidence.get("content") or {}).get("compared")
    if versions:
        parts.append(f"texts {versions[0]} ~ {versions[1]}")
    runner_up = evidence.get("runner_up")
    if runner_up:
        parts.append(f"runner-up {runner_up['lineage']} ({runner_up['content_similarity']:.2f})")
    return "; ".join(parts)


@cli.command("trace")
@click.argument("document")
@click.argument("section")
@click.option("--at", "at_ref", metavar="VERSION", help="Only the section so named in this version.")
@click.option("--json", "as_json", is_flag=True, help="JSON only on stdout (with the hunks' full texts).")
@click.pass_context
def trace_cmd(ctx: click.Context, document: str, section: str, at_ref: str | None, as_json: bool) -> None:
    """Follow SECTION through every version of DOCUMENT's lineage: its number and title in
    each (or absent) and the hunks between them. SECTION: a heading number ("Commitment 9"),
    a title, or a regular expression.

    Example: regwatch trace cop-safety-security "Commitment 9"
    """
    from store.lineage import pick_in_lineage
    from store.versions import version_text
    from tracker.lineage import lineage_for
    from tracker.trace import format_thread, thread_json, trace_section

    config = _config(ctx)
    db = _open(config, readonly=True)
    document = _resolve_document(db, document)
    root, versions = lineage_for(db, config, document)
    at = None
    if at_ref is not None:
        v = pick_in_lineage(versions, at_ref, document)
        if v is None:
            raise RegwatchError(f"{document} has no version {at_ref!r} (see `regwatch lineage {document}`)")
        at = versions.index(v)
    texts = [version_text(db, v.id) for v in versions]
    db.close()
    threads = trace_section(texts, section, at=at)
    if not threads:
        where = versions[at].ref if at is not None else f"the {len(versions)} version(s) of {root}"
        raise RegwatchError(f"no section {section!r} in {where}")
    if as_json:
        refs = [{"ref": v.ref, "document": v.document, "version": v.number, "label": v.label, "url": v.version.url}
                for v in versions]
        _emit_json({"lineage": root, "section": section, "threads": [thread_json(t, refs) for t in threads]})
        return
    names = [(v.ref if v.linked else f"v{v.number}") + (f" ({v.label})" if v.label else "") for v in versions]
    for k, thread in enumerate(threads):
        if k:
            click.echo("")
        pos, _ = thread.anchor
        click.echo(f"{root}: {section!r} as named in {names[pos]}")
        click.echo("\n".join(format_thread(thread, names)))


@cli.command()
@click.pass_context
def reprocess(ctx: click.Context) -> None:
    """Re-extract every stored version from its raw bytes with the current extractor.

    Example: regwatch reprocess
    """
    from tracker.pipeline import reprocess as run

    report = run(_config(ctx))
    click.echo(f"{report.versions} versions re-extracted, {len(report.changed)} texts changed, "
               f"{len(report.failed)} failed; {report.changes} changes recomputed")
    for vid, err in report.failed:
        click.echo(f"error: version {vid}: {err}", err=True)
    if report.failed:
        ctx.exit(EXIT_PARTIAL)


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="JSON only on stdout.")
@click.option("--source", "source_filter", help="Only entries of this source (aia, cop-safety-security, ...).")
@click.pass_context
def obligations(ctx: click.Context, as_json: bool, source_filter: str | None) -> None:
    """List the obligation catalog (AI Act provisions, Code commitments and measures) with the
    number of stored changes touching each (itself or anything below it).

    Example: regwatch obligations --source aia
    """
    if ctx.invoked_subcommand is not None:
        return
    from store.changes import obligation_change_counts
    from tracker.obligations.catalog import descendants, shipped_catalog

    catalog = shipped_catalog()
    counts = _stored_counts(ctx, obligation_change_counts)
    rows = []
    for o in catalog.obligations:
        if source_filter and o.source != source_filter:
            continue
        below = descendants(catalog, o.id)
        rows.append({"id": o.id, "ref": o.ref, "title": o.title, "source": o.source, "kind": o.kind,
                     "parent": o.parent, "applies_to": o.applies_to, "serves": o.serves,
                     "changes": sum(counts.get(i, 0) for i in below), "direct_changes": counts.get(o.id, 0)})
    if as_json:
        _emit_json({"catalog_version": catalog.version, "obligations": rows})
        return
    table = _table(title=f"obligation catalog {catalog.version}")
    for col in ("id", "ref", "title", "applies to", "serves", "changes"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["id"], r["ref"], r["title"], ", ".join(r["applies_to"]), ", ".join(r["serves"]),
                      str(r["changes"]) if r["changes"] else "")
    _console().print(table)


def _stored_counts(ctx: click.Context, query) -> dict:
    """`query(db)` on the database when there is one (the catalog is useful without it)."""
    config = _config(ctx)
    if not config.database_path.exists():
        return {}
    db = _open(config, readonly=True)
    try:
        return query(db)
    finally:
        db.close()


@obligations.command("show")
@click.argument("obligation_id", metavar="ID")
@click.option("--limit", default=20, show_default=True, help="How many recent linked hunks to show.")
@click.option("--json", "as_json", is_flag=True, help="JSON only on stdout.")
@click.pass_context
def obligations_show(ctx: click.Context, obligation_id: str, limit: int, as_json: bool) -> None:
    """Show one obligation (its text references, key terms, applicability, what serves it)
    and its recent changes.

    Example: regwatch obligations show aia-55-1-c
    """
    from store.changes import obligation_hunks
    from tracker.obligations.catalog import norm_id, shipped_catalog

    catalog = shipped_catalog()
    ids = _obligation_ids(obligation_id) or set()
    oid = norm_id(obligation_id)
    entry = catalog.get(oid)
    served_by = [o.id for o in catalog.obligations if oid in o.serves]
    hunks = _stored_counts(ctx, lambda db: obligation_hunks(db, sorted(ids), limit=limit)) or []
    data = entry.model_dump(mode="json") | {
        "ancestors": catalog.ancestors(oid), "children": catalog.children(oid), "served_by": served_by,
        "recent_changes": hunks,
    }
    if as_json:
        _emit_json(data)
        return
    out = _console()
    out.print(f"[bold]{entry.id}[/]  {entry.ref} — {entry.title}")
    for label, value in (
        ("source", catalog.sources[entry.source].title), ("parent", entry.parent or ""),
        ("summary", entry.summary), ("applies to", ", ".join(entry.applies_to)),
        ("exemptions", ", ".join(entry.exemptions)), ("serves", ", ".join(entry.serves)),
        ("served by", ", ".join(served_by)), ("citations", "; ".join(entry.citations)),
        ("key terms", ", ".join(entry.terms)),
        ("dates", f"applies from {entry.dates.applies_from}, models already on the market: "
                  f"{entry.dates.legacy_models_until}" if entry.dates else ""),
        ("earlier numbers", "; ".join(f"{a.version}: {a.number or ''} {a.title or ''}".strip() for a in entry.aliases)),
        ("from", entry.cited_from),
    ):
        if value:
            out.print(f"  {label + ':':<16}{value}", soft_wrap=True)
    if not hunks:
        out.print("\nno stored change touches it yet")
        return
    table = _table(title="recent changes")
    for col in ("detected", "document", "versions", "section", "class", "sig.", "via", "why"):
        table.add_column(col, overflow="fold")
    for h in hunks:
        table.add_row(h["detected_at"][:16], h["document"], f"{h['from_version']} → {h['to_version']}",
                      h["section"] or "", h["classification"], f"{h['significance']:.2f}",
                      f"{h['obligation']} ({h['method']} {h['confidence']:.2f})", h["reason"])
    out.print(table)


@cli.command()
@click.option("--once", is_flag=True, help="Crawl every due source once, process, send alerts, and exit (for cron).")
@click.option("--workers", type=click.IntRange(1, 32), default=4, show_default=True,
              help="Schedules crawled at the same time (each schedule one at a time).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info", show_default=True)
@click.pass_context
def run(ctx: click.Context, once: bool, workers: int, log_level: str) -> None:
    """Run the scheduler daemon: each schedule's sources crawled when due, then processed
    (changes, obligations, alerts queued), then alerts sent; until SIGTERM or SIGINT, which
    let the current step finish and commit (exit 0). One daemon per database. With --once,
    exit 3 when a fetch or an alert failed.

    Example: regwatch run --once
    """
    import logging

    from store.db import StoreError
    from store.lock import LockedError
    from tracker.scheduler import run_forever, run_once

    config = _config(ctx)
    logging.basicConfig(level=log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler's per-run lines would double ours, and its "skipped: maximum number of
    # running instances" every period of a long crawl is said once by our own warning.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    try:
        daemon = run_once(config) if once else run_forever(config, max_workers=workers)
    except LockedError as exc:
        raise RegwatchError(str(exc)) from None
    except StoreError as exc:
        raise RegwatchError(str(exc)) from None
    if once and daemon.failures:  # a daemon stopped by a signal ends well whatever it met
        ctx.exit(EXIT_PARTIAL)


@cli.command()
@click.option("--retry-now", is_flag=True, help="Also send alerts whose retry backoff has not elapsed.")
@click.option("--json", "as_json", is_flag=True, help="JSON only on stdout.")
@click.pass_context
def notify(ctx: click.Context, retry_now: bool, as_json: bool) -> None:
    """Send the due alerts of the outbox; exit 3 when some failed (they stay queued or are dead).

    Example: regwatch notify --retry-now
    """
    from notifications.dispatch import dispatch

    config = _config(ctx)
    db = _open(config)
    try:
        report = dispatch(db, config.channels, config.alerts, retry_now=retry_now,
                          subscriptions=config.subscriptions)
    finally:
        db.close()
    if as_json:
        _emit_json(report.to_json())
    else:
        click.echo(f"{len(report.sent)} sent, {len(report.failed)} failed (will retry), {len(report.dead)} dead"
                   f" ({report.messages} message(s))"
                   + (f", {report.waiting} waiting for a channel no longer configured" if report.waiting else ""))
        for alert_id, error in report.errors.items():
            click.echo(f"error: alert {alert_id}: {error}", err=True)
    if report.failed or report.dead:
        ctx.exit(EXIT_PARTIAL)


@cli.command("alerts")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "dead"]), help="Only alerts in this state.")
@click.option("--json", "as_json", is_flag=True, help="JSON only on stdout.")
@click.pass_context
def alerts_cmd(ctx: click.Context, status: str | None, as_json: bool) -> None:
    """List the outbox: one alert per change, subscription and channel (and per tracking
    failure or recovery of a source), oldest first.

    Example: regwatch alerts --status dead
    """
    from notifications.outbox import list_alerts

    db = _open(_config(ctx), readonly=True)
    rows = list_alerts(db, status)
    db.close()
    if as_json:
        _emit_json(rows)
        return
    table = _table()
    for col in ("id", "about", "subscription", "channel", "status", "attempts", "next attempt", "sent", "last error"):
        table.add_column(col, overflow="fold")
    for r in rows:
        about = f"change {r['change_id']}" if r["kind"] == "change" else f"{r['kind']} {r['source']}"
        nxt = (r["next_attempt_at"] or "")[:19] if r["status"] == "pending" else ""
        if r["status"] == "pending" and r["digest_at"] and (not nxt or r["digest_at"] > nxt):
            nxt = f"digest {r['digest_at'][:16]}"
        table.add_row(str(r["id"]), about, r["subscription"], r["channel"], r["status"],
                      str(r["attempts"]), nxt, (r["sent_at"] or "")[:19], r["last_error"] or "")
    _console().print(table)


@cli.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=Path("regwatch-demo"), show_default=True, help="Where the demo writes its config and database.")
@click.pass_context
def demo(ctx: click.Context, directory: Path) -> None:
    """Run the whole pipeline offline on built-in sample publications.

    Serves a first and a revised version of a fictional code of practice (HTML and PDF)
    from a local server, crawls both, shows the history, what changed and the alerts it
    would send. With `--config FILE` (or $REGWATCH_CONFIG) whose `channels` are set, it
    sends those alerts through them.

    Example: regwatch demo
    """
    from tracker.demo.run import run_demo

    channels_from = None
    if ctx.obj.get("config_path"):
        channels_from = _config(ctx)
    code = run_demo(directory, _console(), channels_from)
    sys.exit(code)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="regwatch")


if __name__ == "__main__":
    main()
