"""Unified diffs: parsing real `git diff` / `diff -u` output and applying it with `--diff`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from depguard.errors import ParseError
from depguard.gitio import Change, ChangedFile, diff_change
from depguard.unidiff import apply_hunks, c_unquote, parse_diff
from tests.conftest import fixture_path


@pytest.fixture(autouse=True)
def _no_git_above(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """tmp_path copies are plain directories: never find a repository above them."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)


def base_tree(tmp_path: Path, *parts: str) -> Path:
    root = tmp_path / "work"
    shutil.copytree(fixture_path(*parts), root)
    return root


def apply_fixture(root: Path, name: str) -> Change:
    text = fixture_path("diffs", name).read_text(encoding="utf-8")
    return diff_change(root, text, name)


def plus_lines(text: str) -> list[str]:
    return [line[1:] for line in text.splitlines() if line.startswith("+") and line[:3] != "+++"]


def test_git_diff_between_real_lockfiles_reproduces_head(tmp_path: Path) -> None:
    root = base_tree(tmp_path, "projects", "npm-axios-1.14.0")
    change = apply_fixture(root, "npm-axios-1.14.0-to-1.14.1.git.diff")
    head_dir = fixture_path("projects", "npm-axios-1.14.1")
    assert change.changed == [
        ChangedFile("package-lock.json", "M"),
        ChangedFile("package.json", "M"),
    ]
    for name in ("package.json", "package-lock.json"):
        assert change.head.text(name) == (head_dir / name).read_text(encoding="utf-8")
        assert change.base.text(name) == (root / name).read_text(encoding="utf-8")
    assert change.head.label == "npm-axios-1.14.0-to-1.14.1.git.diff applied"
    assert change.base.label == "working tree"
    assert (root / "package.json").read_text() != change.head.text("package.json")  # disk untouched
    head_lines = (change.head.text("package-lock.json") or "").splitlines()
    added = change.added_lines("package-lock.json") or set()
    diff = fixture_path("diffs", "npm-axios-1.14.0-to-1.14.1.git.diff").read_text()
    lock_part = diff.split("diff --git a/package.json")[0]
    assert [head_lines[n - 1] for n in sorted(added)] == plus_lines(lock_part)
    assert len(added) == 9


def test_added_lines_match_the_plus_lines_exactly(tmp_path: Path) -> None:
    root = base_tree(tmp_path, "projects", "npm-axios-1.14.0")
    change = apply_fixture(root, "npm-axios-1.14.0-to-1.14.1.git.diff")
    pkg = (change.head.text("package.json") or "").splitlines()
    assert change.added_lines("package.json") == {7}
    assert pkg[6].strip() == '"axios": "1.14.1",'
    assert change.added_lines("README.md") == set()


def test_plain_diff_u_with_directory_prefixes(tmp_path: Path) -> None:
    root = base_tree(tmp_path, "projects", "py-litellm-1.82.6")
    change = apply_fixture(root, "py-litellm-1.82.6-to-1.82.8.u.diff")
    head_dir = fixture_path("projects", "py-litellm-1.82.8")
    assert [item.path for item in change.changed] == ["requirements.in", "requirements.txt"]
    for name in ("requirements.in", "requirements.txt"):
        assert change.head.text(name) == (head_dir / name).read_text(encoding="utf-8")
    assert change.added_lines("requirements.in") == {1}
    assert change.added_lines("requirements.txt") == {85}
    assert change.head.files() == change.base.files() == ["requirements.in", "requirements.txt"]


def test_hunks_found_at_an_offset_and_with_fuzz(tmp_path: Path) -> None:
    root = base_tree(tmp_path, "projects", "py-litellm-1.82.6")
    txt = root / "requirements.txt"
    lines = txt.read_text().splitlines(keepends=True)
    lines[82] = "    # via importlib-metadata (edited)\n"  # first context line of the hunk
    txt.write_text("# pinned\n# by hand\n" + "".join(lines))
    change = apply_fixture(root, "py-litellm-1.82.6-to-1.82.8.u.diff")
    head = (change.head.text("requirements.txt") or "").splitlines()
    assert change.added_lines("requirements.txt") == {87}
    assert head[86] == "litellm==1.82.8"
    assert head[84] == "    # via importlib-metadata (edited)"


def test_hunk_that_does_not_apply_names_the_diff_line(tmp_path: Path) -> None:
    root = base_tree(tmp_path, "projects", "npm-axios-1.14.1")  # already applied
    with pytest.raises(ParseError) as info:
        apply_fixture(root, "npm-axios-1.14.0-to-1.14.1.git.diff")
    assert info.value.path == "npm-axios-1.14.0-to-1.14.1.git.diff"
    assert info.value.line == 5
    assert "hunk #1 for package-lock.json does not apply (expected at line 8)" in str(info.value)


def test_git_diff_creating_deleting_renaming_and_binary(tmp_path: Path) -> None:
    root = base_tree(tmp_path, "projects", "py-litellm-1.82.6")
    change = apply_fixture(root, "create-delete-rename.git.diff")
    assert change.changed == [
        ChangedFile("assets/logo.bin", "A", None, "binary patch not applied"),
        ChangedFile("deps/requirements prod.txt", "R", "requirements.txt"),
        ChangedFile("requirements.in", "D"),
        ChangedFile("src/café.py", "A"),
        ChangedFile("tools/run.sh", "A"),
    ]
    assert change.head.files() == ["deps/requirements prod.txt", "src/café.py", "tools/run.sh"]
    assert change.head.text("requirements.in") is None
    assert change.head.text("requirements.txt") is None
    assert change.head.text("src/café.py") == (
        "import json\nimport requests\nfrom litellm import completion\n"
    )
    moved = (change.head.text("deps/requirements prod.txt") or "").splitlines()
    assert moved[36] == "httpx==0.28.1"
    assert change.added_lines("deps/requirements prod.txt") == {37}
    assert change.added_lines("src/café.py") == {1, 2, 3}
    assert change.added_lines("assets/logo.bin") is None
    assert change.added_lines("requirements.in") == set()
    with pytest.raises(ParseError, match=r"no such file at create-delete-rename\.git\.diff"):
        change.head.reader.read_text(root / "requirements.in")


def test_binary_files_differ_is_listed_not_applied(tmp_path: Path) -> None:
    root = base_tree(tmp_path, "projects", "py-litellm-1.82.6")
    change = apply_fixture(root, "binary-files-differ.git.diff")
    assert change.changed == [
        ChangedFile("assets/logo.bin", "A", None, "binary patch not applied"),
        ChangedFile("requirements.in", "M"),
    ]
    assert change.head.text("requirements.in") == "litellm==1.82.6\nfastapi>=0.110\nhttpx>=0.27\n"
    assert change.head.text("assets/logo.bin") is None


def test_crlf_content_and_no_newline_at_end(tmp_path: Path) -> None:
    root = base_tree(tmp_path, "diffs", "crlf-no-newline.base")
    change = apply_fixture(root, "crlf-no-newline.git.diff")
    assert change.head.text("requirements.txt") == (
        "litellm==1.82.8\r\nfastapi>=0.110\r\nuvicorn>=0.30\r\nhttpx>=0.27"
    )
    assert change.added_lines("requirements.txt") == {1, 3, 4}


def test_diff_u_without_directories_strips_nothing(tmp_path: Path) -> None:
    root = base_tree(tmp_path, "projects", "py-litellm-1.82.6")
    change = apply_fixture(root, "requirements-in-p0.u.diff")
    assert change.changed == [ChangedFile("requirements.in", "M")]
    assert change.head.text("requirements.in") == "litellm==1.82.8\nfastapi>=0.110\npydantic>=2\n"
    assert change.added_lines("requirements.in") == {1, 3}


def test_diff_N_epoch_timestamps_create_and_delete(tmp_path: Path) -> None:
    root = base_tree(tmp_path, "projects", "py-litellm-1.82.6")
    change = apply_fixture(root, "new-and-deleted-epoch.u.diff")
    assert change.changed == [
        ChangedFile("constraints.txt", "A"),
        ChangedFile("requirements.in", "D"),
    ]
    assert change.head.text("constraints.txt") == "urllib3<3\n"
    assert change.head.text("requirements.in") is None
    assert change.head.files() == ["constraints.txt", "requirements.txt"]


def test_diff_whose_lines_were_converted_to_crlf_still_applies(tmp_path: Path) -> None:
    root = base_tree(tmp_path, "projects", "py-litellm-1.82.6")
    text = fixture_path("diffs", "requirements-in-p0.u.diff").read_text().replace("\n", "\r\n")
    change = diff_change(root, text, "mangled.diff")
    assert change.head.text("requirements.in") == "litellm==1.82.8\nfastapi>=0.110\npydantic>=2\n"


def test_diff_outside_git_lists_files_by_walking(tmp_path: Path) -> None:
    root = base_tree(tmp_path, "projects", "py-litellm-1.82.6")
    (root / "node_modules").mkdir()
    (root / "node_modules" / "x.json").write_text("{}")
    change = diff_change(root, "", "empty.diff")
    assert change.changed == []
    assert change.base.files() == ["requirements.in", "requirements.txt"]


MINI = "--- a/r.txt\n+++ b/r.txt\n"


@pytest.mark.parametrize(
    ("diff", "fragment", "line"),
    [
        ("@@ -1 +1 @@\n-a\n+b\n", "hunk without a file header", 1),
        (MINI + "@@ -1 +1 @\n-a\n+b\n", "malformed hunk header", 3),
        (MINI + "@@ -1,3 +1,3 @@\n a\n-b\n", "the diff ends inside the hunk at line 3", 5),
        (MINI + "@@ -1,2 +1,2 @@\n a\n*b\n", "malformed hunk: 1 old and 1 new line(s)", 5),
        (MINI + "@@ -1 +1 @@\n\\ No newline at end of file\n", "before any line", 4),
        ("--- a/../x.txt\n+++ b/../x.txt\n@@ -1 +1 @@\n-a\n+b\n", "outside the project", 1),
        ("--- a/missing.txt\n+++ b/missing.txt\n@@ -1 +1 @@\n-a\n+b\n", "no such file to patch", 1),
        (MINI + "@@ -1 +1 @@\n-zzz\n+b\n", "hunk #1 for r.txt does not apply", 3),
        (MINI + "@@ -1,2 +1,2 @@\n-a\n-b\n+x\n+y\n@@ -2 +2 @@\n-b\n+c\n", "hunk #2", 8),
        ("diff --git a/r.txt b/r.txt\ndeleted file mode 100644\n--- a/r.txt\n+++ /dev/null\n"
         "@@ -1 +0,0 @@\n-a\n", "still has content after the patch", 1),
        ("diff --git a/r.txt b/r.txt\nnew file mode 100644\n--- /dev/null\n+++ b/r.txt\n"
         "@@ -0,0 +1 @@\n+a\n", "r.txt already exists", 1),
    ],
)  # fmt: skip
def test_malformed_or_stale_diffs(tmp_path: Path, diff: str, fragment: str, line: int) -> None:
    (tmp_path / "r.txt").write_text("a\nb\n")
    with pytest.raises(ParseError) as info:
        diff_change(tmp_path, diff, "bad.diff")
    assert fragment in str(info.value)
    assert (info.value.path, info.value.line) == ("bad.diff", line)


def test_parse_omitted_counts_quoted_names_and_modes() -> None:
    text = fixture_path("diffs", "create-delete-rename.git.diff").read_text(encoding="utf-8")
    patches = {(p.old_name, p.new_name): p for p in parse_diff(text, "x.diff")}
    cafe = patches[(None, "src/café.py")]
    assert (cafe.new_file, cafe.git, cafe.strip, cafe.new_mode) == (True, True, 0, "100644")
    run = patches[(None, "tools/run.sh")]
    assert run.new_mode == "100755"
    one = parse_diff("--- a/x\n+++ b/x\n@@ -3 +3,2 @@\n-a\n+b\n+c\n", "y.diff")[0]
    assert [(h.old_start, h.old_len, h.new_start, h.new_len) for h in one.hunks] == [(3, 1, 3, 2)]
    assert (one.old_name, one.new_name, one.strip) == ("a/x", "b/x", None)


@pytest.mark.parametrize(
    ("quoted", "plain"),
    [
        ('"a/caf\\303\\251.py"', "a/café.py"),
        ('"a/tab\\there \\"q\\" \\\\"', 'a/tab\there "q" \\'),
        ("a/plain name", "a/plain name"),
    ],
)
def test_c_unquote(quoted: str, plain: str) -> None:
    assert c_unquote(quoted) == plain


def test_git_header_without_minus_plus_lines_uses_rename_names() -> None:
    text = (
        "diff --git a/old name.txt b/new name.txt\nsimilarity index 100%\n"
        "rename from old name.txt\nrename to new name.txt\n"
        "diff --git a/m b/m\nold mode 100644\nnew mode 120000\n"
    )
    rename, mode = parse_diff(text, "r.diff")
    assert (rename.old_name, rename.new_name, rename.rename, rename.hunks) == (
        "old name.txt",
        "new name.txt",
        True,
        [],
    )
    assert (mode.old_name, mode.new_name, mode.old_mode, mode.new_mode) == (
        "m",
        "m",
        "100644",
        "120000",
    )


def test_pure_rename_and_type_change_apply(tmp_path: Path) -> None:
    (tmp_path / "old name.txt").write_text("keep\n")
    (tmp_path / "m").write_text("target\n")
    text = (
        "diff --git a/old name.txt b/new name.txt\nsimilarity index 100%\n"
        "rename from old name.txt\nrename to new name.txt\n"
        "diff --git a/m b/m\nold mode 100644\nnew mode 120000\n"
    )
    change = diff_change(tmp_path, text, "r.diff")
    assert change.changed == [
        ChangedFile("new name.txt", "R", "old name.txt"),
        ChangedFile("m", "T"),
    ]
    assert change.head.text("new name.txt") == "keep\n"
    assert change.head.text("old name.txt") is None
    assert change.added_lines("new name.txt") == set()


def test_editor_stripped_blank_context_line_and_insert_without_context() -> None:
    hunks = parse_diff("--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@\n a\n\n+new\n c\n", "e.diff")[0].hunks
    assert apply_hunks("a\n\nc\n", hunks, "e.diff", "f") == ("a\n\nnew\nc\n", {3})
    zero = parse_diff("--- a/f\n+++ b/f\n@@ -1,0 +2 @@\n+x\n", "z.diff")[0].hunks
    assert apply_hunks("a\nb\n", zero, "z.diff", "f") == ("a\nx\nb\n", {2})


def test_mnemonic_prefixes_and_no_prefix_git_diffs() -> None:
    mnemonic = "diff --git i/r.txt w/r.txt\n--- i/r.txt\n+++ w/r.txt\n@@ -1 +1 @@\n-a\n+b\n"
    bare = "diff --git a/r.txt a/r.txt\n--- a/r.txt\n+++ a/r.txt\n@@ -1 +1 @@\n-a\n+b\n"
    assert [(p.old_name, p.new_name) for p in parse_diff(mnemonic, "m.diff")] == [
        ("r.txt", "r.txt")
    ]
    assert [(p.old_name, p.new_name) for p in parse_diff(bare, "n.diff")] == [
        ("a/r.txt", "a/r.txt")
    ]
