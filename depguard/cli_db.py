"""`depguard db sync|import|status`: the offline advisory database."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

__all__ = ["db"]


def warn(message: str) -> None:
    from depguard.cli import warn as cli_warn

    cli_warn(message)


DB_OPTION = click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="advisory database (default: $DEPGUARD_DB or the user cache dir).",
)


def _db_path(db_path: Path | None) -> Path:
    from depguard.advisories.db import default_db_path

    return db_path or default_db_path()


@click.group()
def db() -> None:
    """Manage the offline advisory database (OSV records in sqlite).

    \b
    Example:
      depguard db sync && depguard db status
    """


@db.command("sync")
@DB_OPTION
@click.option(
    "--ecosystem",
    "ecosystems",
    multiple=True,
    default=("PyPI", "npm"),
    show_default=True,
    help="OSV ecosystem export to download (repeatable).",
)
@click.option(
    "--url",
    "base_url",
    default=None,
    metavar="URL",
    help="base URL of the OSV exports (default: $DEPGUARD_OSV_DOWNLOAD_URL or OSV's bucket).",
)
@click.option("--timeout", type=float, default=30.0, show_default=True, help="seconds per request.")
def db_sync(
    db_path: Path | None, ecosystems: Sequence[str], base_url: str | None, timeout: float
) -> None:
    """Download the OSV exports and swap in a fresh database atomically.

    \b
    Example:
      depguard db sync --ecosystem PyPI
    """
    from depguard.advisories.sync import stderr_progress, sync

    path = _db_path(db_path)
    result = sync(path, ecosystems, base_url=base_url, timeout=timeout, progress=stderr_progress())
    for eco in result.ecosystems:
        state = f"downloaded {eco.downloaded:,} bytes" if eco.changed else "unchanged (304)"
        click.echo(f"{eco.ecosystem}: {state}")
    if result.imported is not None:
        _echo_import(result.imported)
    click.echo(f"database: {path}")


@db.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@DB_OPTION
@click.option("--replace", is_flag=True, help="start from an empty database.")
def db_import(paths: Sequence[Path], db_path: Path | None, replace: bool) -> None:
    """Load OSV records from all.zip files, folders of .json files or single records.

    \b
    Example:
      depguard db import ~/Downloads/PyPI-all.zip ~/Downloads/npm-all.zip
    """
    from depguard.advisories.db import import_paths

    path = _db_path(db_path)
    _echo_import(import_paths(path, paths, replace=replace))
    click.echo(f"database: {path}")


def _echo_import(result: Any) -> None:
    click.echo(
        f"records: {result.read:,} read, {result.added:,} added, "
        f"{result.updated:,} updated, {result.unchanged:,} unchanged, "
        f"{result.malformed:,} malformed"
    )
    for problem in result.problems:
        warn(problem)


@db.command("status")
@DB_OPTION
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="output format.",
)
def db_status(db_path: Path | None, fmt: str) -> None:
    """Show what the advisory database holds and how old it is.

    \b
    Example:
      depguard db status --format json
    """
    import json

    from depguard.advisories.db import AdvisoryDB

    path = _db_path(db_path)
    with AdvisoryDB.open(path) as database:
        status = database.status()
    age_days = round(status.age.total_seconds() / 86400, 1) if status.age else None
    doc = {
        "path": str(status.path),
        "schema": status.schema_version,
        "advisories": status.advisories,
        "malicious": status.malicious,
        "withdrawn": status.withdrawn,
        "ecosystems": status.per_ecosystem,
        "newest_modified": status.newest_modified,
        "updated_at": status.updated_at.isoformat() if status.updated_at else None,
        "age_days": age_days,
        "stale": status.stale,
    }
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(f"database: {doc['path']} (schema {doc['schema']})")
        click.echo(
            f"advisories: {status.advisories:,} ({status.malicious:,} malicious, "
            f"{status.withdrawn:,} withdrawn)"
        )
        for eco, count in status.per_ecosystem.items():
            click.echo(f"  {eco}: {count:,}")
        click.echo(f"newest record: {status.newest_modified or 'none'}")
        click.echo(
            f"updated: {doc['updated_at'] or 'never'}"
            + (f" ({age_days} days ago)" if age_days is not None else "")
        )
    if status.stale:
        warn(
            "the advisory data is more than 7 days old (or its age is unknown): "
            "run `depguard db sync`"
        )
