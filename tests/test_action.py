"""The GitHub Action: action.yml's definition, and depguard.action run as the runner would.

End-to-end tests run `python -m depguard.action` as a real process with the `GITHUB_*`
environment a pull_request run gets (event payload, step summary, output file, workspace,
temp folder) against a real git repository, and a stand-in `gh` executable on PATH that
records its arguments (the one outside service).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from depguard.action import MARKER, Event, Inputs, check_argv, command, comment_body, read_event
from depguard.errors import UsageError
from tests import test_gate as gate
from tests.conftest import ROOT, fixture_path
from tests.test_precommit import base_project, offline_env

ACTION = ROOT / "action.yml"
EXAMPLE = ROOT / "examples" / "workflows" / "depguard.yml"
SELF_TEST = ROOT / ".github" / "workflows" / "self-test.yml"

FAKE_GH = """#!{python}
import json, os, sys
args = sys.argv[1:]
record = {{"args": args}}
if "--input" in args:
    with open(args[args.index("--input") + 1], encoding="utf-8") as handle:
        record["input"] = json.load(handle)
with open(os.environ["FAKE_GH_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(record) + "\\n")
if os.environ.get("FAKE_GH_EXIT", "0") != "0":
    sys.stderr.write("HTTP 403: Resource not accessible by integration\\n")
    sys.exit(int(os.environ["FAKE_GH_EXIT"]))
if "--paginate" in args:
    sys.stdout.write(os.environ.get("FAKE_GH_EXISTING", ""))
"""


def pull_request_payload(base: str, head: str) -> dict[str, object]:
    """A pull_request `synchronize` payload, trimmed to real keys with real shapes."""
    repo = {"id": 1, "name": "holdout", "full_name": "octo/holdout", "private": False,
            "owner": {"login": "octo", "type": "Organization"},
            "default_branch": "main", "html_url": "https://github.com/octo/holdout"}
    return {
        "action": "synchronize",
        "number": 7,
        "before": "0" * 40,
        "after": head,
        "pull_request": {
            "url": "https://api.github.com/repos/octo/holdout/pulls/7",
            "number": 7, "state": "open", "title": "Add YAML config and retry", "draft": False,
            "user": {"login": "assistant-bot", "type": "Bot"},
            "base": {"label": "octo:main", "ref": "main", "sha": base, "repo": repo},
            "head": {"label": "octo:assistant/yaml", "ref": "assistant/yaml", "sha": head,
                     "repo": repo},
        },
        "repository": repo,
        "sender": {"login": "assistant-bot", "type": "Bot"},
    }


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    summary: str
    outputs: dict[str, str]
    gh_calls: list[dict[str, object]]


class Runner:
    """A GitHub-hosted-runner-shaped environment around one repository checkout."""

    def __init__(self, tmp: Path, workspace: Path, base: str, head: str) -> None:
        self.tmp, self.workspace = tmp, workspace
        for name in ("runner-temp", "bin"):
            (tmp / name).mkdir(exist_ok=True)
        gh = tmp / "bin" / "gh"
        gh.write_text(FAKE_GH.format(python=sys.executable), encoding="utf-8")
        gh.chmod(gh.stat().st_mode | stat.S_IXUSR)
        self.event = tmp / "event.json"
        self.event.write_text(json.dumps(pull_request_payload(base, head)), encoding="utf-8")
        self.env = offline_env(tmp)
        self.env.update({
            "PATH": f"{tmp / 'bin'}{os.pathsep}{self.env.get('PATH', '')}",
            "PYTHONPATH": str(ROOT), "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(self.event),
            "GITHUB_REPOSITORY": "octo/holdout", "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"),
            "GITHUB_OUTPUT": str(tmp / "output.txt"),
            "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "42",
            "RUNNER_TEMP": str(tmp / "runner-temp"), "FAKE_GH_LOG": str(tmp / "gh.log"),
            "INPUT_OFFLINE": "true",
        })

    def run(self, **env: str) -> Run:
        proc = subprocess.run([sys.executable, "-P", "-m", "depguard.action"], cwd=self.workspace,
                              env={**self.env, **env}, capture_output=True, text=True,
                              timeout=300)
        summary = self.tmp / "summary.md"
        output = self.tmp / "output.txt"
        log = self.tmp / "gh.log"
        outputs = dict(line.split("=", 1) for line in
                       (output.read_text().splitlines() if output.exists() else []))
        calls = [json.loads(line) for line in
                 (log.read_text().splitlines() if log.exists() else [])]
        return Run(proc.returncode, proc.stdout, proc.stderr,
                   summary.read_text() if summary.exists() else "", outputs, calls)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "work" / "holdout"
    base_project(root)
    return root


def head_sha(root: Path) -> str:
    return gate.git(root, "rev-parse", "HEAD")


@pytest.fixture()
def assistant_pr(project: Path, tmp_path: Path) -> Runner:
    """A pull request whose one commit is the assistant change of tests/test_gate.py."""
    base = head_sha(project)
    gate.git(project, "checkout", "-q", "-b", "assistant/yaml")
    gate.assistant_change(project)
    gate.git(project, "add", "-A")
    gate.git(project, "commit", "-q", "-m", "assistant change")
    return Runner(tmp_path, project, base, head_sha(project))


# --- end to end ------------------------------------------------------------------------------


def test_assistant_pull_request_is_blocked_and_reported_everywhere(assistant_pr: Runner) -> None:
    run = assistant_pr.run()
    assert run.code == 1, run.stdout + run.stderr
    assert "plain-crypto-js" in run.summary and "MAL-2026-2306" in run.summary
    annotations = [line for line in run.stdout.splitlines() if line.startswith("::")]
    assert any(line.startswith("::error file=package-lock.json,line=")
               and "plain-crypto-js" in line for line in annotations)
    assert any("file=src/app/main.py,line=4" in line for line in annotations)
    assert annotations[-1].startswith("::error title=depguard::the dependency gate failed")
    sarif = json.loads((assistant_pr.workspace / "depguard.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert "plain-crypto-js" in json.dumps(sarif["runs"][0]["results"])
    assert run.outputs["verdict"] == "fail" and int(run.outputs["blocking"]) >= 2
    assert json.loads(Path(run.outputs["report"]).read_text())["verdict"] == "fail"
    assert "--base" in run.stderr and "--offline" in run.stderr  # the command line it ran
    listing, created = run.gh_calls
    assert listing["args"][:3] == ["api", "--paginate", "repos/octo/holdout/issues/7/comments"]
    assert MARKER in listing["args"][-1]
    assert created["args"][:4] == ["api", "--method", "POST",
                                   "repos/octo/holdout/issues/7/comments"]
    body = created["input"]["body"]  # type: ignore[index]
    assert body.startswith(MARKER + "\n") and body.count(MARKER) == 1
    assert "plain-crypto-js" in body and "MAL-2026-2306" in body


def test_files_in_the_pull_request_never_shadow_python_modules(assistant_pr: Runner) -> None:
    marker = assistant_pr.tmp / "pwned"
    for name in ("json.py", "click.py", "subprocess.py"):
        (assistant_pr.workspace / name).write_text(
            f"open({str(marker)!r}, 'w').write('ran')\n", encoding="utf-8")
    result = assistant_pr.run()
    assert result.code == 1, result.stderr
    assert not marker.exists()


def test_the_sticky_comment_is_updated_in_place(assistant_pr: Runner) -> None:
    run = assistant_pr.run(FAKE_GH_EXISTING="1234\n5678\n")
    assert run.code == 1
    _, updated = run.gh_calls
    assert updated["args"][:4] == ["api", "--method", "PATCH",
                                   "repos/octo/holdout/issues/comments/1234"]
    assert "plain-crypto-js" in updated["input"]["body"]  # type: ignore[index]


def test_comment_false_never_calls_gh(assistant_pr: Runner) -> None:
    run = assistant_pr.run(INPUT_COMMENT="false")
    assert run.code == 1 and run.gh_calls == []
    assert "plain-crypto-js" in run.summary


def test_a_comment_that_cannot_be_posted_warns_and_the_gate_still_fails(
        assistant_pr: Runner) -> None:
    run = assistant_pr.run(FAKE_GH_EXIT="1")
    assert run.code == 1
    warning = "::warning title=depguard::could not post the PR comment: gh api --paginate"
    assert warning in run.stdout
    assert "HTTP 403" in run.stdout


def test_custom_sarif_path_and_fail_on(assistant_pr: Runner) -> None:
    run = assistant_pr.run(INPUT_SARIF_FILE="reports/dg.sarif", INPUT_FAIL_ON="never",
                           INPUT_COMMENT="false")
    assert run.code == 0, run.stdout + run.stderr
    assert (assistant_pr.workspace / "reports" / "dg.sarif").is_file()
    assert run.outputs["verdict"] == "pass" and run.outputs["blocking"] == "0"
    assert "::error title=depguard::" not in run.stdout


def test_docs_only_pull_request_passes_without_a_new_comment(project: Path,
                                                              tmp_path: Path) -> None:
    base = head_sha(project)
    gate.write(project, "README.md", "# holdout\n\nMore words, and `import yaml` in prose.\n")
    gate.git(project, "commit", "-q", "-am", "docs")
    run = Runner(tmp_path, project, base, head_sha(project)).run()
    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["verdict"] == "pass" and run.outputs["findings"] == "0"
    assert [call["args"][1] for call in run.gh_calls] == ["--paginate"]  # looked, posted nothing
    assert (project / "depguard.sarif").is_file()


def test_the_pull_request_is_compared_from_its_merge_base(project: Path,
                                                          tmp_path: Path) -> None:
    """main moved on (it dropped the bad axios) after the branch was cut: only the branch's
    own commits count, so a docs-only branch passes."""
    gate.assistant_change(project)
    gate.git(project, "add", "-A")
    gate.git(project, "commit", "-q", "-m", "bad bump")
    gate.git(project, "checkout", "-q", "-b", "docs")
    gate.write(project, "README.md", "# holdout\n\ndocs\n")
    gate.git(project, "commit", "-q", "-am", "docs")
    branch_head = head_sha(project)
    gate.git(project, "checkout", "-q", "main")
    base = fixture_path("projects", "npm-axios-1.14.0")
    for name in ("package.json", "package-lock.json"):
        (project / name).write_bytes((base / name).read_bytes())
    gate.git(project, "commit", "-q", "-am", "back to axios 1.14.0")
    run = Runner(tmp_path, project, head_sha(project), branch_head).run()
    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["verdict"] == "pass"


@pytest.mark.parametrize(("env", "fragment"), [
    ({"INPUT_FAIL_ON": "severe"}, "'severe' is not one of"),
    ({"INPUT_COMMENT": "maybe"}, "input comment: 'maybe' is not true or false"),
    ({"GITHUB_EVENT_NAME": "push"}, "the push event has no pull request"),
    ({"INPUT_BASE": "0" * 40}, f"commit {'0' * 40} is not in the clone"),
    ({"INPUT_POLICY": "missing.toml"}, "missing.toml"),
    ({"INPUT_WORKING_DIRECTORY": "nowhere"}, "working-directory nowhere: no such directory"),
])
def test_could_not_evaluate_exits_2_with_one_clear_error(assistant_pr: Runner,
                                                        env: dict[str, str],
                                                        fragment: str) -> None:
    if env.get("GITHUB_EVENT_NAME") == "push":
        assistant_pr.event.write_text(json.dumps({"ref": "refs/heads/main"}))
    run = assistant_pr.run(**env)
    assert run.code == 2, run.stdout + run.stderr
    (error,) = [line for line in run.stdout.splitlines() if line.startswith("::error")]
    assert error.startswith("::error title=depguard::depguard could not evaluate the change: ")
    assert fragment in error
    assert run.outputs == {"verdict": "error"}
    assert fragment in run.summary
    assert "Traceback" not in run.stderr


# --- the module's small parts ----------------------------------------------------------------


def test_inputs_map_to_check_flags() -> None:
    inputs = Inputs.from_env({"INPUT_FAIL_ON": "critical", "INPUT_POLICY": "ci/policy.toml",
                              "INPUT_WORKING_DIRECTORY": "web", "INPUT_OFFLINE": "TRUE"})
    assert check_argv(inputs, "abc", "def") == [
        "check", "web", "--base", "abc", "--head", "def", "--fail-on", "critical",
        "--policy", "ci/policy.toml", "--offline"]
    assert check_argv(Inputs.from_env({}), "a", "b") == [
        "check", ".", "--base", "a", "--head", "b", "--fail-on", "high"]
    assert Inputs.from_env({}).comment is True


def test_event_payload_errors_name_the_file(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 3, "base": {}, "head": {}}}))
    env = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event)}
    with pytest.raises(UsageError, match=r"event.json: pull_request.base.sha is missing"):
        read_event(env, Inputs())
    event.write_text("[not json")
    with pytest.raises(UsageError, match="cannot read the event payload"):
        read_event(env, Inputs())
    event.write_text(json.dumps({"inputs": {}}))
    dispatch = {**env, "GITHUB_EVENT_NAME": "workflow_dispatch", "GITHUB_REPOSITORY": "o/r"}
    assert read_event(dispatch, Inputs(base="v1")) == Event("workflow_dispatch", "v1", "HEAD",
                                                            None, "o/r")


def test_comment_body_is_trimmed_to_the_github_limit() -> None:
    assert comment_body(MARKER + "\n# ok\n", "u") == MARKER + "\n# ok\n"
    body = comment_body("x" * 70_000, "https://github.com/o/r/actions/runs/1")
    assert len(body) <= 65_000 and body.startswith(MARKER)
    assert body.endswith("(https://github.com/o/r/actions/runs/1)\n")


def test_workflow_command_messages_cannot_inject_a_second_command() -> None:
    assert command("error", "50% off\n::error::x") == \
        "::error title=depguard::50%25 off%0A::error::x\n"


# --- action.yml and the workflows ------------------------------------------------------------


def load(path: Path) -> dict[str, object]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(("schema", "path"), [
    ("vendor.github-actions", ACTION),
    ("vendor.github-workflows", EXAMPLE),
    ("vendor.github-workflows", SELF_TEST),
])
def test_matches_the_public_schema_offline(schema: str, path: Path) -> None:
    """check-jsonschema's vendored schemastore schemas, in-process: the socket guard of
    conftest proves nothing is downloaded."""
    from check_jsonschema import main as check_jsonschema

    result = CliRunner().invoke(check_jsonschema, ["--builtin-schema", schema, str(path)])
    assert result.exit_code == 0, result.output
    assert "ok -- validation done" in result.output


def test_schema_check_catches_a_broken_action(tmp_path: Path) -> None:
    from check_jsonschema import main as check_jsonschema

    broken = tmp_path / "action.yml"
    broken.write_text(ACTION.read_text().replace("using: composite", "using: compost"))
    result = CliRunner().invoke(check_jsonschema, ["--builtin-schema", "vendor.github-actions",
                                               str(broken)])
    assert result.exit_code == 1


def test_inputs_are_kebab_case_documented_and_reach_the_script() -> None:
    action = load(ACTION)
    inputs = action["inputs"]
    assert isinstance(inputs, dict)
    assert {"fail-on", "policy", "working-directory", "sarif-file", "comment", "offline",
            "db-cache", "python-version"} <= set(inputs)
    steps = action["runs"]["steps"]  # type: ignore[index]
    (check,) = [s for s in steps if s.get("id") == "check"]
    for name, spec in inputs.items():
        assert name == name.lower() and "_" not in name
        description = " ".join(spec["description"].split())
        default = spec["default"] or "empty"
        assert "Default:" in description, name
        if not default.startswith("${{"):
            assert default in description.split("Default:", 1)[1], name
        env_name = "INPUT_" + name.upper().replace("-", "_")
        if env_name in check["env"]:
            assert check["env"][env_name] == f"${{{{ inputs.{name} }}}}"
            assert Inputs.from_env({env_name: spec["default"]}) == Inputs(), name
    consumed = {"db-cache", "python-version", "github-token"}
    passed = {k[len("INPUT_"):].lower().replace("_", "-") for k in check["env"]
              if k.startswith("INPUT_")}
    assert passed | consumed == set(inputs)
    for step in steps:  # inputs reach shell code only through env:, never spliced in
        assert "${{" not in step.get("run", ""), step.get("name")


def test_action_installs_itself_and_runs_the_module() -> None:
    steps = load(ACTION)["runs"]["steps"]  # type: ignore[index]
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    assert uses[0] == "actions/setup-python" and "actions/cache" in uses
    text = ACTION.read_text()
    assert '"$ACTION_PATH"' in text and "${{ github.action_path }}" in text
    assert "depguard db sync" in text and "::warning" in text
    assert steps[-1]["run"].startswith("python -P -m depguard.action")
    runs = [s["run"] for s in steps if "run" in s]
    assert all("python -P " in r for r in runs if "python " in r)  # never import from the PR


def test_example_workflow_has_what_the_action_needs() -> None:
    workflow = load(EXAMPLE)
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write",
                                       "security-events": "write"}
    assert "pull_request" in workflow[True]  # type: ignore[operator]  # YAML 1.1: on -> True
    steps = workflow["jobs"]["depguard"]["steps"]  # type: ignore[index]
    assert steps[0]["uses"].startswith("actions/checkout@")
    assert steps[0]["with"]["fetch-depth"] == 0
    (gate_step,) = [s for s in steps if s.get("id") == "depguard"]
    (upload,) = [s for s in steps if "upload-sarif" in s.get("uses", "")]
    assert upload["with"]["sarif_file"] == gate_step["with"]["sarif-file"]
    assert upload["if"].startswith("always()")


def test_self_test_runs_this_action_on_the_fixture_projects() -> None:
    job = load(SELF_TEST)["jobs"]["action"]  # type: ignore[index]
    assert any(step.get("uses") == "./" for step in job["steps"])
    cases = job["strategy"]["matrix"]["include"]
    assert {case["verdict"] for case in cases} == {"pass", "fail"}
    for case in cases:
        fixture_path("projects", case["base"])
        fixture_path("projects", case["head"])
