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

FAIL_ON_CHOICES = ("never", "low", "moderate", "high", "critical", "malicious")
"""= depguard.report.FAIL_ON_CHOICES (a test keeps them equal). Not imported from there:
report.py needs dataclasses, and `depguard hook`'s fast path must not pay for it."""

CONTEXT_SETTINGS = {
    "help_option_names": ["-h", "--help"],
    "auto_envvar_prefix": "DEPGUARD",
    "max_content_width": 100,
    "terminal_width": 100,
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
            one_line = str(exc).replace("\r", "\\r").replace("\n", "\\n")  # names from files
            click.echo(f"depguard: error: {one_line}", err=True)
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
    type=click.Choice(["tree", "json", "dot", "graphml", "html"]),
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
    if fmt == "html":
        from depguard.audit import flag_graph
        from depguard.graph_html import render_html

        write_output(render_html(dep_graph, flag_graph(dep_graph)), output)
        return
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


FORMAT_NAMES = ("text", "json", "sarif", "markdown", "github")
"""Report formats; tests keep this equal to depguard.formats.FORMATS."""


POLICY_OPTION = click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="policy file (default: .depguard.toml or [tool.depguard] in pyproject.toml).",
)


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
                default=None,
                help="lowest severity that fails the gate, exit 1 (default: the policy's "
                "fail-on, else high).",
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
            POLICY_OPTION,
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
    fail_on: str | None,
    offline: bool,
    db_path: Path | None,
    osv_api_url: str | None,
    policy_path: Path | None,
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
        policy_path=policy_path,
    )
    if audit_env and path != Path("."):
        raise click.UsageError("--env audits an installed environment (see --python), not PATH")
    report = scan_env(options, python) if audit_env else run_scan(path, options)
    ctx.exit(render_report(report, fmt, output))


def change_from_options(path: Path, base: str | None, head: str | None, staged: bool,
                        diff: str | None) -> Any:
    """The gitio.Change that --base/--head, --staged or --diff describe."""
    from depguard import gitio
    from depguard.errors import UsageError

    modes = sum([base is not None, staged, diff is not None])
    if modes != 1:
        raise UsageError("give exactly one of --base REF, --staged or --diff FILE|-")
    if head is not None and base is None:
        raise UsageError("--head needs --base")
    if diff is not None:
        text = sys.stdin.read() if diff == "-" else _read_diff(Path(diff))
        return gitio.diff_change(path, text, "<stdin>" if diff == "-" else diff)
    repo = gitio.GitRepo.find(path)
    return repo.staged() if staged else repo.change(base or "", head)


def _read_diff(path: Path) -> str:
    from depguard.parsers.base import DiskReader

    return DiskReader().read_text(path)


def check_options(func: Any) -> Any:
    for option in reversed([
        click.option("--base", default=None, metavar="REF", help="compare against this git ref."),
        click.option("--head", default=None, metavar="REF",
                     help="the changed side (default: the working tree)."),
        click.option("--staged", is_flag=True, help="check the index against HEAD."),
        click.option("--diff", "diff", default=None, metavar="FILE|-",
                     help="check a unified diff applied to PATH's files."),
    ]):
        func = option(func)
    return func


@cli.command()
@PATH_ARG
@check_options
@report_options
@click.pass_context
def check(ctx: click.Context, path: Path, base: str | None, head: str | None, staged: bool,
          diff: str | None, fmt: str, output: Path | None, fail_on: str | None, offline: bool,
          db_path: Path | None, osv_api_url: str | None, policy_path: Path | None) -> None:
    """Score what a change adds to the dependency surface, and gate it.

    \b
    Example:
      depguard check --base origin/main --format markdown
    """
    from depguard.gate import CheckOptions, run_check

    change = change_from_options(path, base, head, staged, diff)
    options = CheckOptions(fail_on=fail_on, offline=offline, db_path=db_path,
                           policy_path=policy_path, osv_api_url=osv_api_url)
    ctx.exit(render_report(run_check(change, options), fmt, output))


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--fail-on", type=click.Choice(FAIL_ON_CHOICES), default=None,
              help="lowest severity that blocks the commit (default: the policy's, else high).")
@click.option("--offline", is_flag=True, help="no network at all.")
@click.option("--db", "db_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="advisory database.")
@POLICY_OPTION
@click.pass_context
def hook(ctx: click.Context, files: Sequence[Path], fail_on: str | None, offline: bool,
         db_path: Path | None, policy_path: Path | None) -> None:
    """Pre-commit entry point: check the staged change; exit 1 blocks the commit.

    FILES (passed by pre-commit) are ignored: the whole staged change is checked.

    \b
    Example:
      depguard hook
    """
    from depguard.formats.hook import render_hook_summary
    from depguard.gate import CheckOptions, run_check

    change = change_from_options(Path("."), None, None, True, None)
    options = CheckOptions(fail_on=fail_on, offline=offline, db_path=db_path,
                           policy_path=policy_path)
    report = run_check(change, options, command="hook")
    click.echo(render_hook_summary(report), nl=False)
    ctx.exit(ExitCode.GATE_FAILED if report.verdict == "fail" else ExitCode.PASSED)


from depguard.cli_db import db  # noqa: E402 - the group above must exist first

cli.add_command(db)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run the click CLI (the console script enters through depguard.__main__.main)."""
    cli.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="depguard")
    raise SystemExit(ExitCode.PASSED)  # pragma: no cover - click always exits
