"""The click command line: options -> library call -> render -> exit code.

Only this module prints or exits.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from depguard import __version__
from depguard.errors import DepguardError, ExitCode
from depguard.report import FAIL_ON_CHOICES

CONTEXT_SETTINGS = {
    "help_option_names": ["-h", "--help"],
    "auto_envvar_prefix": "DEPGUARD",
    "max_content_width": 100,
}

PATH_ARG = click.argument("path", type=click.Path(path_type=Path), default=".", required=False)


def _parse_as_option(values: Sequence[str]) -> dict[Path, str]:
    mapping: dict[Path, str] = {}
    for value in values:
        fmt, sep, file = value.partition(":")
        if not sep or not file:
            raise click.BadParameter(f"{value!r} is not FORMAT:PATH", param_hint="--parse-as")
        mapping[Path(file)] = fmt
    return mapping


def graph_options(func: Any) -> Any:
    """Options shared by every command that builds a graph."""
    func = click.option(
        "--parse-as",
        "parse_as",
        multiple=True,
        metavar="FORMAT:PATH",
        help="read PATH as FORMAT (e.g. requirements.txt:deps/base.pip).",
    )(func)
    func = click.option(
        "--pip-arg",
        "pip_args",
        multiple=True,
        metavar="ARG",
        help="extra argument for --resolve pip (e.g. --index-url=URL).",
    )(func)
    func = click.option(
        "--python",
        "python",
        type=click.Path(path_type=Path),
        default=None,
        help="interpreter or virtualenv for --resolve (default: this one).",
    )(func)
    func = click.option(
        "--resolve",
        type=click.Choice(["none", "env", "pip"]),
        default="none",
        show_default=True,
        help="complete unlocked Python projects from an environment or pip.",
    )(func)
    return func


class DepguardGroup(click.Group):
    """Turns library errors into one line on stderr and the contract's exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except DepguardError as exc:
            click.echo(f"depguard: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("depguard: interrupted", err=True)
            ctx.exit(ExitCode.INTERRUPTED)
        except BrokenPipeError:
            ctx.exit(ExitCode.PASSED)
        except Exception as exc:
            if (ctx.obj or {}).get("verbose"):
                raise
            click.echo(
                f"depguard: internal error: {type(exc).__name__}: {exc} "
                "(re-run with -v for the traceback)",
                err=True,
            )
            ctx.exit(ExitCode.ERROR)


@click.group(cls=DepguardGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="depguard")
@click.option("-v", "--verbose", count=True, help="more diagnostics on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="only errors on stderr.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """depguard: audit what your project depends on, and what a change adds.

    \b
    Example:
      depguard scan .
    """
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    ctx.obj["quiet"] = quiet


def load_graph(
    path: Path,
    resolve: str,
    python: Path | None,
    parse_as: Sequence[str],
    pip_args: Sequence[str] = (),
) -> Any:
    """The project's graph for `graph` and `why`; partial-graph notes go to stderr."""
    from depguard.audit import ScanOptions, build_graph

    options = ScanOptions(
        resolve=resolve,
        python=python,
        pip_args=tuple(pip_args),
        parse_as=_parse_as_option(parse_as),
    )
    graph, notes = build_graph(path, options)
    for note in notes:
        warn(note)
    return graph


def warn(message: str) -> None:
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.find_root().obj and ctx.find_root().obj.get("quiet"):
        return
    click.echo(f"depguard: warning: {message}", err=True)


def write_output(text: str, output: Path | None) -> None:
    """Results go to stdout, or to --output, written only after a successful run."""
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DepguardError(f"{output}: cannot write: {exc.strerror or exc}") from exc


OUTPUT_OPTION = click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="write the result to FILE instead of stdout.",
)


@cli.command()
@PATH_ARG
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["tree", "json", "dot", "graphml"]),
    default="tree",
    show_default=True,
    help="output format.",
)
@OUTPUT_OPTION
@graph_options
def graph(
    path: Path,
    fmt: str,
    output: Path | None,
    resolve: str,
    python: Path | None,
    pip_args: Sequence[str],
    parse_as: Sequence[str],
) -> None:
    """Print the transitive dependency graph of PATH (a folder or one file).

    \b
    Example:
      depguard graph . --format dot | dot -Tsvg > deps.svg
    """
    from depguard.graph_render import render_graph

    dep_graph = load_graph(path, resolve, python, parse_as, pip_args)
    write_output(render_graph(dep_graph, fmt), output)


@cli.command()
@click.argument("package")
@PATH_ARG
@graph_options
def why(
    package: str,
    path: Path,
    resolve: str,
    python: Path | None,
    pip_args: Sequence[str],
    parse_as: Sequence[str],
) -> None:
    """Show every chain from the project to PACKAGE (NAME or NAME@VERSION).

    \b
    Example:
      depguard why mime-types
    """
    dep_graph = load_graph(path, resolve, python, parse_as, pip_args)
    matches = dep_graph.find(package)
    if not matches:
        raise DepguardError(f"{package}: not in the dependency graph of {path}")
    qualify = dep_graph.ambiguous_roots()
    for dep in matches:
        chains, more = dep_graph.chains(dep)
        for chain in chains:
            click.echo(chain.render(qualify))
        if not chains:
            click.echo(f"{dep.label()}: listed, but no chain from a project root reaches it")
        if more:
            click.echo(f"... and {more} more chains to {dep.label()}")


FORMAT_NAMES = ("text", "json")


def report_options(func: Any) -> Any:
    """--format/--output/--fail-on and the advisory-data options of scan and check."""
    for option in reversed(
        [
            click.option(
                "-f",
                "--format",
                "fmt",
                type=click.Choice(FORMAT_NAMES),
                default="text",
                show_default=True,
                help="report format.",
            ),
            OUTPUT_OPTION,
            click.option(
                "--fail-on",
                type=click.Choice(FAIL_ON_CHOICES),
                default="high",
                show_default=True,
                help="lowest severity that fails the gate (exit 1).",
            ),
            click.option("--offline", is_flag=True, help="no network at all."),
            click.option(
                "--db",
                "db_path",
                type=click.Path(path_type=Path, dir_okay=False),
                default=None,
                help="advisory database (default: $DEPGUARD_DB or the user cache dir).",
            ),
            click.option(
                "--osv-api-url",
                default=None,
                metavar="URL",
                help="OSV API base URL for online lookups.",
            ),
        ]
    ):
        func = option(func)
    return func


def render_report(report: Any, fmt: str, output: Path | None) -> int:
    """Render, write, print the one-line summary on stderr; return the exit code."""
    from depguard.formats import FORMATS

    color = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    write_output(FORMATS[fmt](color=color).render(report), output)
    if fmt != "text" or output is not None:
        blocking = sum(1 for f in report.findings if f.blocking)
        warn_line = (
            f"{report.command}: {len(report.packages)} packages, "
            f"{len(report.findings)} findings, {blocking} blocking: {report.verdict}"
        )
        click.echo(f"depguard: {warn_line}", err=True)
    return ExitCode.GATE_FAILED if report.verdict == "fail" else ExitCode.PASSED


@cli.command()
@PATH_ARG
@report_options
@click.option("--exclude-dev", is_flag=True, help="leave out development-only packages.")
@click.option(
    "--env",
    "audit_env",
    is_flag=True,
    help="audit an installed environment (--python, default: this one) through pip-audit.",
)
@graph_options
@click.pass_context
def scan(
    ctx: click.Context,
    path: Path,
    fmt: str,
    output: Path | None,
    fail_on: str,
    offline: bool,
    db_path: Path | None,
    osv_api_url: str | None,
    exclude_dev: bool,
    audit_env: bool,
    resolve: str,
    python: Path | None,
    pip_args: Sequence[str],
    parse_as: Sequence[str],
) -> None:
    """Audit PATH's transitive dependencies against known advisories.

    \b
    Example:
      depguard scan . --fail-on critical --format json -o report.json
      depguard scan --env --python .venv
    """
    from depguard.audit import ScanOptions, scan_env
    from depguard.audit import scan as run_scan

    options = ScanOptions(
        fail_on=fail_on,
        offline=offline,
        db_path=db_path,
        exclude_dev=exclude_dev,
        resolve=resolve,
        python=python,
        pip_args=tuple(pip_args),
        parse_as=_parse_as_option(parse_as),
        osv_api_url=osv_api_url,
    )
    if audit_env and path != Path("."):
        raise click.UsageError("--env audits an installed environment (see --python), not PATH")
    report = scan_env(options, python) if audit_env else run_scan(path, options)
    ctx.exit(render_report(report, fmt, output))


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


@cli.group()
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


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console entry point."""
    cli.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="depguard")
    raise SystemExit(ExitCode.PASSED)  # pragma: no cover - click always exits
