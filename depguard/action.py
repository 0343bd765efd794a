"""The GitHub Action's logic: `python -m depguard.action`, run by action.yml.

action.yml passes its inputs as `INPUT_*` environment variables (INPUT_FAIL_ON,
INPUT_POLICY, ...). This module maps them to `depguard check` flags, evaluates
the pull request's change once, and publishes that one report four ways: markdown
in the job summary, `::error`/`::warning` annotations on stdout, a SARIF file for
code scanning, and (optionally) one sticky pull-request comment. The exit code is
the CLI's: 0 passed, 1 the gate failed, 2 depguard could not evaluate the change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from depguard.errors import DepguardError, ExitCode, UsageError
from depguard.formats.markdown import MARKER
from depguard.report import Report

__all__ = ["MARKER", "Event", "Inputs", "check_argv", "command", "main", "read_event"]


COMMENT_LIMIT = 65_000
"""GitHub rejects comment bodies over 65,536 characters."""

_PR_EVENTS = ("pull_request", "pull_request_target")
_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off", "")


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(f"INPUT_{name}")
    value = raw.strip().lower() if raw is not None else ("true" if default else "false")
    if value not in _TRUE + _FALSE:
        raise UsageError(f"input {name.lower().replace('_', '-')}: {raw!r} is not true or false")
    return value in _TRUE


@dataclass(frozen=True, slots=True, kw_only=True)
class Inputs:
    """The action's inputs, with action.yml's defaults."""

    fail_on: str = "high"
    policy: str = ""
    working_directory: str = "."
    sarif_file: str = "depguard.sarif"
    comment: bool = True
    offline: bool = False
    base: str = ""
    head: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        def text(name: str, default: str) -> str:
            return env.get(f"INPUT_{name}", "").strip() or default

        return cls(
            fail_on=text("FAIL_ON", "high"),
            policy=text("POLICY", ""),
            working_directory=text("WORKING_DIRECTORY", "."),
            sarif_file=text("SARIF_FILE", "depguard.sarif"),
            comment=_flag(env, "COMMENT", True),
            offline=_flag(env, "OFFLINE", False),
            base=text("BASE", ""),
            head=text("HEAD", ""),
        )


@dataclass(frozen=True, slots=True)
class Event:
    """What the workflow run is about: the two commits and, for a pull request, its number."""

    name: str
    base: str
    head: str
    number: int | None
    repository: str


def _load_payload(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH", "")
    if not path:
        return {}
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read the event payload: {exc}") from exc
    if not isinstance(payload, dict):
        raise UsageError(f"{path}: the event payload is not a JSON object")
    return payload


def _sha(pr: Mapping[str, Any], side: str, path: str) -> str:
    ref = pr.get(side)
    sha = ref.get("sha") if isinstance(ref, dict) else None
    if not isinstance(sha, str) or not sha:
        raise UsageError(f"{path}: pull_request.{side}.sha is missing")
    return sha


def read_event(env: Mapping[str, str], inputs: Inputs) -> Event:
    """The base and head commits: the `base`/`head` inputs, else the pull_request payload."""
    name = env.get("GITHUB_EVENT_NAME", "")
    payload = _load_payload(env)
    repository = env.get("GITHUB_REPOSITORY", "")
    pr = payload.get("pull_request")
    if name in _PR_EVENTS and isinstance(pr, dict):
        path = env.get("GITHUB_EVENT_PATH", "")
        number = pr.get("number", payload.get("number"))
        return Event(name, inputs.base or _sha(pr, "base", path),
                     inputs.head or _sha(pr, "head", path),
                     number if isinstance(number, int) else None, repository)
    if inputs.base:
        return Event(name, inputs.base, inputs.head or "HEAD", None, repository)
    raise UsageError(f"the {name or 'unknown'} event has no pull request: run on pull_request, "
                     "or set the base (and head) inputs")


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              check=False)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def merge_base(cwd: Path, base: str, head: str) -> str:
    """Where the pull request branched off `base`, so base-branch commits made since are
    not counted as the pull request's change (GitHub's "Files changed" view)."""
    if not cwd.is_dir():
        raise UsageError(f"working-directory {cwd}: no such directory")
    for ref in (base, head):
        if _git(cwd, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}") is None:
            raise UsageError(f"commit {ref} is not in the clone: check out with "
                             "actions/checkout's fetch-depth: 0")
    return _git(cwd, "merge-base", base, head) or base


def check_argv(inputs: Inputs, base: str, head: str) -> list[str]:
    """The `depguard check` command line that the inputs stand for."""
    argv = ["check", inputs.working_directory, "--base", base, "--head", head,
            "--fail-on", inputs.fail_on]
    if inputs.policy:
        argv += ["--policy", inputs.policy]
    if inputs.offline:
        argv.append("--offline")
    return argv


def evaluate(argv: Sequence[str]) -> Report:
    """Run `depguard check ARGV` in-process once and return its Report (flags parsed by click,
    so choices and paths are validated exactly as on the command line)."""
    import click

    from depguard.cli import change_from_options, check
    from depguard.gate import CheckOptions, run_check

    try:
        ctx = check.make_context("depguard check", list(argv[1:]))
    except click.ClickException as exc:
        raise UsageError(exc.format_message()) from exc
    p = ctx.params
    change = change_from_options(p["path"], p["base"], p["head"], p["staged"], p["diff"])
    options = CheckOptions(fail_on=p["fail_on"], offline=p["offline"], db_path=p["db_path"],
                           policy_path=p["policy_path"], osv_api_url=p["osv_api_url"])
    return run_check(change, options)


def render(report: Report, fmt: str) -> str:
    from depguard.formats import FORMATS

    return FORMATS[fmt](color=False).render(report)


def _append(path: str, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")


def _set_outputs(env: Mapping[str, str], values: Mapping[str, str]) -> None:
    _append(env.get("GITHUB_OUTPUT", ""), "".join(f"{k}={v}\n" for k, v in values.items()))


def comment_body(markdown: str, run_url: str) -> str:
    """The sticky comment: the markdown report (whose first line is the hidden MARKER that
    finds this comment again), trimmed to GitHub's size limit."""
    text = markdown.rstrip()
    body = (text if text.startswith(MARKER) else f"{MARKER}\n{text}") + "\n"
    if len(body) > COMMENT_LIMIT:
        more = f"\n\n… report truncated: see the full report in the [job summary]({run_url})\n"
        body = body[: COMMENT_LIMIT - len(more)] + more
    return body


def sticky_comment(body: str, event: Event, tmp: Path, create: bool) -> str:
    """Create or update the one comment carrying MARKER (with the `gh` CLI); returns what
    was done. `create=False` only updates an existing comment."""
    if event.number is None or not event.repository:
        return "skipped: not a pull request"
    issue = f"repos/{event.repository}/issues"
    found = _gh("api", "--paginate", f"{issue}/{event.number}/comments",
                "--jq", f'.[] | select(.body | startswith("{MARKER}")) | .id')
    ids = found.split()
    if not ids and not create:
        return "skipped: nothing to report and no earlier comment"
    payload = tmp / "depguard-comment.json"
    payload.write_text(json.dumps({"body": body}), encoding="utf-8")
    if ids:
        _gh("api", "--method", "PATCH", f"{issue}/comments/{ids[0]}", "--input", str(payload))
        return f"updated comment {ids[0]}"
    _gh("api", "--method", "POST", f"{issue}/{event.number}/comments", "--input", str(payload))
    return "created a comment"


def _gh(*args: str) -> str:
    try:
        done = subprocess.run(["gh", *args], capture_output=True, text=True, check=False)
    except OSError as exc:
        raise DepguardError(f"gh: cannot run: {exc}") from exc
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or [f"exit {done.returncode}"]
        raise DepguardError(f"gh {' '.join(args[:3])}: {lines[-1]}")
    return done.stdout


def command(kind: str, message: str) -> str:
    """A workflow command line (`::error title=depguard::...`), with its message escaped."""
    escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::{kind} title=depguard::{escaped}\n"


def publish(report: Report, inputs: Inputs, event: Event, env: Mapping[str, str]) -> None:
    """Summary, annotations, SARIF, JSON, step outputs and the sticky comment."""
    workspace = Path(env.get("GITHUB_WORKSPACE") or ".")
    tmp = Path(env.get("RUNNER_TEMP") or workspace)
    markdown = render(report, "markdown")
    _append(env.get("GITHUB_STEP_SUMMARY", ""), markdown)
    sys.stdout.write(render(report, "github"))
    sarif = workspace / inputs.sarif_file
    sarif.parent.mkdir(parents=True, exist_ok=True)
    sarif.write_text(render(report, "sarif"), encoding="utf-8")
    report_json = tmp / "depguard-report.json"
    report_json.write_text(render(report, "json"), encoding="utf-8")
    blocking = sum(1 for f in report.findings if f.blocking)
    _set_outputs(env, {"verdict": report.verdict, "findings": str(len(report.findings)),
                       "blocking": str(blocking), "sarif-file": str(sarif),
                       "report": str(report_json)})
    if inputs.comment:
        run_url = (f"{env.get('GITHUB_SERVER_URL', 'https://github.com')}/"
                   f"{event.repository}/actions/runs/{env.get('GITHUB_RUN_ID', '')}")
        try:
            done = sticky_comment(comment_body(markdown, run_url), event, tmp,
                                  create=bool(report.findings))
            print(f"depguard: pull request comment: {done}", file=sys.stderr)
        except DepguardError as exc:  # e.g. a fork's read-only token: the gate still counts
            sys.stdout.write(command("warning", f"could not post the PR comment: {exc}"))


def run(env: Mapping[str, str]) -> int:
    inputs = Inputs.from_env(env)
    event = read_event(env, inputs)
    base = merge_base(Path(inputs.working_directory), event.base, event.head)
    argv = check_argv(inputs, base, event.head)
    print("depguard: running: depguard " + " ".join(argv), file=sys.stderr)
    report = evaluate(argv)
    publish(report, inputs, event, env)
    if report.verdict == "fail":
        blocking = sum(1 for f in report.findings if f.blocking)
        sys.stdout.write(command("error", f"the dependency gate failed: {blocking} finding(s) "
                                 f"at or above {report.fail_on} (see the job summary)"))
        return ExitCode.GATE_FAILED
    return ExitCode.PASSED


def main(environ: Mapping[str, str] | None = None) -> int:
    """Entry point: the exit code (2 with an `::error` line when depguard could not run)."""
    env = os.environ if environ is None else environ
    try:
        return run(env)
    except DepguardError as exc:
        message = f"depguard could not evaluate the change: {exc}"
    except Exception as exc:  # noqa: BLE001 - a bug: traceback in the log, exit 2 (not 1)
        traceback.print_exc()
        message = f"depguard internal error: {type(exc).__name__}: {exc}"
    sys.stdout.write(command("error", message))
    _append(env.get("GITHUB_STEP_SUMMARY", ""), f"## depguard\n\n:x: {message}\n")
    _set_outputs(env, {"verdict": "error"})
    return ExitCode.ERROR


if __name__ == "__main__":
    raise SystemExit(main())
