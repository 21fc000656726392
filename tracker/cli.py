"""The `regwatch` command line: parse, make one library call, render, exit.

Exit codes: 0 success, 1 differences found (diff/compare --exit-code), 2 usage or config
error, 3 partial failure (some sources failed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from crawler.runner import CrawlError
from store.db import StoreError, open_db
from store.queries import document_ids, documents, last_fetches, version_counts
from store.versions import find_version, history, version_text
from tracker.config import Config, ConfigError, load_config

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
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 200
    return Console(stderr=stderr, highlight=False, width=width)


def _config(ctx: click.Context) -> Config:
    obj = ctx.ensure_object(dict)
    if "config" not in obj:
        try:
            obj["config"] = load_config(obj.get("config_path"))
        except ConfigError as exc:
            raise RegwatchError(str(exc)) from None
    return obj["config"]


def _open(config: Config, readonly: bool = False):
    try:
        return open_db(config.database_path, readonly=readonly)
    except StoreError as exc:
        raise RegwatchError(str(exc)) from None


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _resolve_document(db, document: str) -> str:
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
                    "new_versions": len(summary.new_versions)})
    else:
        table = Table(title="crawl summary")
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
    if summary.failed:
        if not as_json:
            names_failed = ", ".join(sorted({f["source"] for f in summary.failed}))
            click.echo(f"error: failed: {names_failed}", err=True)
        ctx.exit(EXIT_PARTIAL)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="JSON only on stdout.")
@click.pass_context
def sources(ctx: click.Context, as_json: bool) -> None:
    """List configured sources with their last fetch.

    Example: regwatch sources --json
    """
    config = _config(ctx)
    last: dict[str, dict] = {}
    counts: dict[str, int] = {}
    if config.database_path.exists():
        db = _open(config, readonly=True)
        last, counts = last_fetches(db), version_counts(db)
        db.close()
    rows = []
    for s in config.sources:
        doc = s.document or s.name
        rows.append({
            "name": s.name, "url": s.url, "document": doc, "kind": "listing" if s.follow else "page",
            "label": s.label, "schedule": config.schedule_of(s), "enabled": s.enabled,
            "versions": counts.get(doc, 0), "last_fetch": last.get(s.name),
        })
    if as_json:
        _emit_json(rows)
        return
    table = Table()
    for col in ("name", "kind", "schedule", "versions", "last fetch", "status", "url"):
        table.add_column(col, overflow="fold")
    for r in rows:
        lf = r["last_fetch"] or {}
        status = lf.get("outcome", "never fetched")
        if lf.get("error"):
            status = f"[red]{status}: {lf['error']}[/]"
        table.add_row(r["name"], r["kind"], r["schedule"], str(r["versions"]), lf.get("started_at", ""), status, r["url"])
    _console().print(table)


@cli.command("documents")
@click.option("--json", "as_json", is_flag=True, help="JSON only on stdout.")
@click.pass_context
def documents_cmd(ctx: click.Context, as_json: bool) -> None:
    """List tracked documents (configured and found on listing pages).

    Example: regwatch documents
    """
    db = _open(_config(ctx), readonly=True)
    rows = documents(db)
    db.close()
    if as_json:
        _emit_json(rows)
        return
    table = Table()
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
    """List the versions of DOCUMENT, oldest first.

    Example: regwatch history cop-safety-security --json
    """
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
    table = Table(title=document)
    for col in ("version", "label", "first seen", "type", "headings", "chars", "url"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(str(r["version"]), r["label"] or "", r["first_seen"], r["content_type"],
                      str(r["headings"]), str(r["text_chars"]), r["final_url"] or r["url"])
    _console().print(table)


@cli.command()
@click.argument("document")
@click.argument("version", required=False)
@click.option("--outline", is_flag=True, help="Only the headings.")
@click.pass_context
def show(ctx: click.Context, document: str, version: str | None, outline: bool) -> None:
    """Print the extracted text of DOCUMENT at VERSION (number or label; default: latest).

    Example: regwatch show cop-safety-security 2
    """
    db = _open(_config(ctx), readonly=True)
    document = _resolve_document(db, document)
    v = find_version(db, document, version)
    if v is None:
        raise RegwatchError(f"{document} has no version {version!r}")
    if outline:
        for h in v.outline:
            click.echo("  " * (h["level"] - 1) + h["text"])
    else:
        click.echo(version_text(db, v.id), nl=False)
    db.close()


@cli.command()
@click.pass_context
def reprocess(ctx: click.Context) -> None:
    """Re-extract every stored version from its raw bytes with the current extractor.

    Example: regwatch reprocess
    """
    from tracker.pipeline import reprocess as run

    report = run(_config(ctx))
    click.echo(f"{report.versions} versions re-extracted, {len(report.changed)} texts changed, "
               f"{len(report.failed)} failed")
    for vid, err in report.failed:
        click.echo(f"error: version {vid}: {err}", err=True)
    if report.failed:
        ctx.exit(EXIT_PARTIAL)


@cli.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=Path("regwatch-demo"), show_default=True, help="Where the demo writes its config and database.")
def demo(directory: Path) -> None:
    """Run the whole pipeline offline on built-in sample publications.

    Serves a first and a revised version of a fictional code of practice (HTML and PDF)
    from a local server, crawls both, and shows the history.

    Example: regwatch demo
    """
    from tracker.demo.run import run_demo

    code = run_demo(directory, _console())
    sys.exit(code)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="regwatch")
