"""GitRepo / Snapshot / Change against real git repositories made in tmp_path."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from depguard.errors import ParseError, UsageError
from depguard.gitio import ChangedFile, GitRepo, run_git
from tests.conftest import fixture_path

REAL_GIT = shutil.which("git")


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user/system git config, no repository above tmp_path, no hook environment."""
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
        cwd=repo, check=True, capture_output=True,
    )  # fmt: skip
    return done.stdout.decode()


def write(repo: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        path.write_bytes(data)


def commit(repo: Path, files: dict[str, str | bytes], message: str = "c") -> None:
    write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def init(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Two commits: modified, added, deleted and renamed files, with spaces and unicode."""
    root = init(tmp_path)
    lit = fixture_path("projects", "py-litellm-1.82.6")
    commit(
        root,
        {
            "requirements.txt": (lit / "requirements.txt").read_text(),
            "requirements.in": "litellm==1.82.6\nfastapi>=0.110\n",
            "docs/my notes.txt": "one\ntwo\n",
            "gone.txt": "bye\n",
        },
    )
    (root / "deps").mkdir()
    git(root, "mv", "requirements.txt", "deps/requirements prod.txt")
    git(root, "rm", "-q", "gone.txt")
    commit(
        root,
        {
            "requirements.in": "litellm==1.82.8\nfastapi>=0.110\nhttpx>=0.27\n",
            "docs/my notes.txt": "one\ntwo\nthree\n",
            "src/café.py": "import json\nimport requests\n",
        },
    )
    return root


@pytest.fixture
def repo_obj(repo: Path) -> Iterator[GitRepo]:
    with GitRepo.find(repo / "docs") as found:
        yield found


def test_base_to_head_lists_every_kind_of_change(repo: Path, repo_obj: GitRepo) -> None:
    assert repo_obj.root == repo.resolve()
    change = repo_obj.change("HEAD~1", "HEAD")
    assert change.changed == [
        ChangedFile("deps/requirements prod.txt", "R", "requirements.txt"),
        ChangedFile("docs/my notes.txt", "M"),
        ChangedFile("gone.txt", "D"),
        ChangedFile("requirements.in", "M"),
        ChangedFile("src/café.py", "A"),
    ]
    sha = repo_obj.resolve("HEAD~1")
    assert len(sha) == 40 and change.base.label == f"HEAD~1 ({sha[:7]})"
    assert change.base.files() == [
        "docs/my notes.txt",
        "gone.txt",
        "requirements.in",
        "requirements.txt",
    ]
    assert change.head.files() == [
        "deps/requirements prod.txt", "docs/my notes.txt", "requirements.in", "src/café.py",
    ]  # fmt: skip
    assert change.base.text("requirements.in") == "litellm==1.82.6\nfastapi>=0.110\n"
    assert change.head.text("requirements.in") == "litellm==1.82.8\nfastapi>=0.110\nhttpx>=0.27\n"
    assert change.base.text("src/café.py") is None
    assert change.head.text("src/café.py") == "import json\nimport requests\n"
    assert change.head.text("docs") is None  # a tree is not a file
    with pytest.raises(ParseError, match=r"gone.txt: no such file at HEAD \("):
        change.head.reader.read_text(repo / "gone.txt")


def test_added_lines_from_git_hunks(repo_obj: GitRepo) -> None:
    change = repo_obj.change("HEAD~1", "HEAD")
    assert change.added_lines("requirements.in") == {1, 3}
    assert change.added_lines("docs/my notes.txt") == {3}
    assert change.added_lines("src/café.py") == {1, 2}
    assert change.added_lines("deps/requirements prod.txt") == set()  # pure rename
    assert change.added_lines("gone.txt") == set()
    assert change.added_lines("never-existed.txt") == set()


def test_reading_never_checks_out(repo: Path, repo_obj: GitRepo) -> None:
    change = repo_obj.change("HEAD~1", "HEAD")
    assert change.base.text("gone.txt") == "bye\n"
    assert not (repo / "gone.txt").exists()
    assert git(repo, "status", "--porcelain") == ""


def test_working_tree_with_untracked_and_ignored_files(repo: Path, repo_obj: GitRepo) -> None:
    write(repo, {".gitignore": "*.log\n", "debug.log": "x\n", "new dir/ü.txt": "hi\n"})
    write(repo, {"requirements.in": "litellm==1.82.8\nfastapi>=0.110\nhttpx>=0.27\nrich\n"})
    (repo / "docs" / "my notes.txt").unlink()
    change = repo_obj.change("HEAD", None)
    assert change.changed == [
        ChangedFile("docs/my notes.txt", "D"),
        ChangedFile("requirements.in", "M"),
        ChangedFile(".gitignore", "A"),
        ChangedFile("new dir/ü.txt", "A"),
    ]
    assert change.head.label == "working tree"
    assert "debug.log" not in change.head.files()
    assert "new dir/ü.txt" in change.head.files()
    assert "docs/my notes.txt" not in change.head.files()
    assert change.head.text("new dir/ü.txt") == "hi\n"
    assert change.head.text("docs/my notes.txt") is None
    assert change.added_lines("requirements.in") == {4}
    assert change.added_lines("new dir/ü.txt") is None  # untracked: every line is new
    with pytest.raises(ParseError, match="no such file at working tree"):
        change.head.reader.read_text(repo / "docs" / "my notes.txt")


def test_staged_reads_the_index_not_the_disk(repo: Path, repo_obj: GitRepo) -> None:
    write(repo, {"requirements.in": "litellm==1.82.8\nrequests\n", "untracked.txt": "u\n"})
    git(repo, "add", "requirements.in")
    write(repo, {"requirements.in": "on disk only\n", "docs/my notes.txt": "unstaged\n"})
    change = repo_obj.staged()
    assert change.changed == [ChangedFile("requirements.in", "M")]
    assert change.head.label == "index"
    assert change.base.label.startswith("HEAD (")
    assert change.head.text("requirements.in") == "litellm==1.82.8\nrequests\n"
    assert change.base.text("requirements.in") == "litellm==1.82.8\nfastapi>=0.110\nhttpx>=0.27\n"
    assert change.added_lines("requirements.in") == {2}
    assert "untracked.txt" not in change.head.files()
    assert change.head.text("untracked.txt") is None


def test_staged_in_a_repository_without_commits(tmp_path: Path) -> None:
    root = init(tmp_path)
    write(root, {"package.json": '{"name": "x"}\n', "a b/ö.txt": "1\n2\n"})
    git(root, "add", "-A")
    with GitRepo.find(root) as found:
        change = found.staged()
    assert change.base.label == "empty tree (no commits yet)"
    assert change.base.files() == []
    assert change.base.text("package.json") is None
    assert change.changed == [ChangedFile("a b/ö.txt", "A"), ChangedFile("package.json", "A")]
    assert change.head.files() == ["a b/ö.txt", "package.json"]
    assert change.head.text("a b/ö.txt") == "1\n2\n"
    assert change.added_lines("a b/ö.txt") == {1, 2}
    with pytest.raises(ParseError, match="no such file at empty tree"):
        change.base.reader.read_text(root / "package.json")


@pytest.mark.parametrize("ref", ["nope", "HEAD~9", "-v", "main:requirements.in^{tree}", ""])
def test_bad_ref_is_a_usage_error(repo_obj: GitRepo, ref: str) -> None:
    with pytest.raises(UsageError, match=f"^bad git revision '{ref}'$".replace("^{", "\\^\\{")):
        repo_obj.change(ref, "HEAD")


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not inside a git work tree") as info:
        GitRepo.find(tmp_path)
    assert "\n" not in str(info.value)
    with pytest.raises(UsageError, match="no such directory"):
        GitRepo.find(tmp_path / "missing" / "file.txt")


def test_git_failure_becomes_one_line_usage_error(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UsageError, match=r"^git cat-file failed: fatal: Not a valid object name"):
        run_git(repo, "cat-file", "-p", "deadbeef")
    monkeypatch.setenv("PATH", str(repo / "no-bin"))
    with pytest.raises(UsageError, match=r"^git is not installed"):
        GitRepo.find(repo)


def test_staged_honours_the_hook_index_file(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`git commit -a` runs hooks with GIT_INDEX_FILE set to a temporary index."""
    shutil.copy(repo / ".git" / "index", repo / ".git" / "tmp-index")
    monkeypatch.setenv("GIT_INDEX_FILE", str(repo / ".git" / "tmp-index"))
    write(repo, {"requirements.in": "litellm==1.82.8\nevil-pkg\n"})
    git(repo, "add", "requirements.in")
    with GitRepo.find(repo) as found:
        change = found.staged()
        assert change.changed == [ChangedFile("requirements.in", "M")]
        assert change.head.text("requirements.in") == "litellm==1.82.8\nevil-pkg\n"
    monkeypatch.delenv("GIT_INDEX_FILE")
    with GitRepo.find(repo) as found:
        assert found.staged().changed == []


def test_invalid_utf8_at_one_revision(tmp_path: Path) -> None:
    root = init(tmp_path)
    commit(root, {"requirements.txt": b"ok==1\n\xff\xfebad==2\n"})
    commit(root, {"requirements.txt": "ok==1\ngood==2\n"})
    with GitRepo.find(root) as found:
        change = found.change("HEAD~1", "HEAD")
        assert change.head.text("requirements.txt") == "ok==1\ngood==2\n"
        with pytest.raises(ParseError) as info:
            change.base.text("requirements.txt")
    assert info.value.path == str(root / "requirements.txt")
    assert (info.value.line, info.value.reason) == (2, "not valid UTF-8 text")


def test_git_readers_refuse_paths_outside_the_repository(tmp_path: Path) -> None:
    root = init(tmp_path)
    (tmp_path / "secret.txt").write_text("s\n")
    os.symlink("../secret.txt", root / "out.txt")
    os.symlink("real.txt", root / "in.txt")
    commit(root, {"real.txt": "inside\n"})
    with GitRepo.find(root) as found:
        change = found.staged()
        head = found.change("HEAD", "HEAD").head
        assert head.text("in.txt") == "inside\n"  # in-tree symlink followed
        with pytest.raises(ParseError, match="outside the project"):
            head.text("out.txt")
        for side in (head, change.head):
            with pytest.raises(ParseError, match="outside the repository"):
                side.reader.read_text(root / ".." / "secret.txt")
            assert not side.reader.exists(root / ".." / "secret.txt")


@pytest.fixture
def git_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `git` on PATH that records its arguments and runs the real git."""
    assert REAL_GIT is not None
    bindir, log = tmp_path / "bin", tmp_path / "git.log"
    bindir.mkdir()
    shim = bindir / "git"
    shim.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{REAL_GIT}" "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_hook_path_runs_few_git_processes(repo: Path, git_log: Path) -> None:
    write(repo, {"requirements.in": "litellm==1.82.8\n", "package.json": "{}\n"})
    git(repo, "add", "-A")
    git_log.unlink()
    with GitRepo.find(repo) as found:
        change = found.staged()
        assert len(git_log.read_text().splitlines()) <= 3
        for name in ("requirements.in", "package.json", "docs/my notes.txt", "nope"):
            change.head.text(name)
            change.base.text(name)
    calls = git_log.read_text().splitlines()
    assert len(calls) <= 4
    assert sum("cat-file --batch" in call for call in calls) == 1


def test_cat_file_process_stops_on_close(repo: Path) -> None:
    found = GitRepo.find(repo)
    change = found.change("HEAD", "HEAD")
    assert change.head.text("requirements.in") is not None
    proc = found._cat._procs[0]
    found.close()
    assert proc.returncode is not None
    assert found._cat._procs == []
