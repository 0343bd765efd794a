"""Git access for the merge gate: the two sides of a change and the files it touches.

File contents come from git objects (one lazy `git cat-file --batch` per repository), never
from a checkout; the working tree is read from disk. `diff_change` builds a change from a
unified diff applied in memory to a directory (see `depguard.unidiff`).
"""

from __future__ import annotations

import os
import subprocess
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from depguard.errors import ParseError, UsageError
from depguard.parsers.base import MAX_FILE_BYTES, DiskReader, FileReader, decode
from depguard.unidiff import added_by, apply_diff, parse_diff

__all__ = ["Change", "ChangedFile", "GitReader", "GitRepo", "Snapshot", "diff_change", "run_git"]

_CONFIG = (
    "-c", "core.quotepath=off", "-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false",
    "-c", "diff.relative=false", "-c", "color.ui=false", "--no-pager",
)  # fmt: skip
_DIFF_FLAGS = ("--no-color", "--no-ext-diff", "--no-textconv", "-M")
_OBJECT_TYPES = ("blob", "tree", "commit", "tag")
_SYMLINK_REPLIES = ("symlink", "dangling", "loop", "notdir")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(LC_ALL="C", LANGUAGE="C", GIT_PAGER="cat", PAGER="cat", GIT_TERMINAL_PROMPT="0")
    env["GIT_OPTIONAL_LOCKS"] = "0"  # never take index.lock (we may run inside a commit hook)
    return env


def run_git(
    cwd: Path, *args: str, ok: tuple[int, ...] = (0,)
) -> subprocess.CompletedProcess[bytes]:
    """Run git; any failure becomes a one-line UsageError with git's first stderr line."""
    try:
        done = subprocess.run(
            ["git", *_CONFIG, *args], cwd=cwd, env=_env(), capture_output=True, check=False
        )
    except FileNotFoundError as exc:
        raise UsageError("git is not installed (or not on PATH)") from exc
    except OSError as exc:
        raise UsageError(f"cannot run git in {cwd}: {exc.strerror or exc}") from exc
    if done.returncode not in ok:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[0] if lines else f"exit status {done.returncode}"
        raise UsageError(f"git {args[0]} failed: {reason}")
    return done


def _split_z(data: bytes) -> list[str]:
    return [os.fsdecode(item) for item in data.split(b"\0") if item]


@dataclass(frozen=True, slots=True)
class ChangedFile:
    """A file the change touches."""

    path: str
    """Repo-relative posix path at head (for deletions: the old path)."""
    status: str
    """"A" added, "M" modified, "D" deleted, "R" renamed, "T" type change."""
    old_path: str | None = None
    note: str = ""
    """Why the file could not be followed (e.g. a binary patch that was not applied)."""


@dataclass(slots=True)
class Snapshot:
    """One side of a change: a label, a root and a reader for the files at that side."""

    label: str
    root: Path
    reader: FileReader
    lister: Callable[[], list[str]] = field(default=list, repr=False)
    _files: list[str] | None = field(default=None, init=False, repr=False)

    def files(self) -> list[str]:
        """Every file at this side (repo-relative posix paths, sorted); cached."""
        if self._files is None:
            self._files = sorted(set(self.lister()))
        return self._files

    def text(self, relpath: str) -> str | None:
        """The content of `relpath` at this side, or None when it is absent."""
        path = self.root / relpath
        return self.reader.read_text(path) if self.reader.exists(path) else None


@dataclass(slots=True)
class Change:
    """What a change does: the base and head sides and the files it touches."""

    root: Path
    base: Snapshot
    head: Snapshot
    changed: list[ChangedFile]
    added_source: Callable[[], dict[str, set[int] | None]] | None = field(default=None, repr=False)
    _added: dict[str, set[int] | None] | None = field(default=None, init=False, repr=False)

    def added_lines(self, relpath: str) -> set[int] | None:
        """1-based lines of `relpath` at head that the change adds; None: unknown (treat as all)."""
        if self.added_source is None:
            return None
        if self._added is None:
            self._added = self.added_source()
        if relpath in self._added:
            return self._added[relpath]
        return None if any(item.path == relpath for item in self.changed) else set()


def relpath_under(root: Path, path: Path) -> str | None:
    """`path` relative to `root` as a posix string, judged lexically; None when outside."""
    full = Path(os.path.normpath(root / path))
    for candidate in (full, Path(os.path.realpath(full))):
        if candidate.is_relative_to(root) and candidate != root:
            return candidate.relative_to(root).as_posix()
    return None


class _CatFile:
    """One long-lived `git cat-file --batch --follow-symlinks`, started on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._procs: list[subprocess.Popen[bytes]] = []
        weakref.finalize(self, _stop, self._procs)

    def _proc(self) -> subprocess.Popen[bytes]:
        if not self._procs:
            args = ["git", *_CONFIG, "cat-file", "--batch", "--follow-symlinks"]
            try:
                proc = subprocess.Popen(
                    args, cwd=self.root, env=_env(), stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                )  # fmt: skip
            except OSError as exc:
                raise UsageError(f"cannot run git in {self.root}: {exc.strerror or exc}") from exc
            self._procs.append(proc)
        return self._procs[0]

    def get(self, spec: str, path: Path) -> bytes | None:
        """The blob named by `spec`; None when missing or not a file."""
        proc = self._proc()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(os.fsencode(spec) + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().decode("utf-8", "surrogateescape").rstrip("\n")
        except OSError as exc:
            raise UsageError(f"git cat-file failed: {exc.strerror or exc}") from exc
        parts = header.split(" ")
        if len(parts) == 3 and parts[1] in _OBJECT_TYPES and parts[2].isdigit():
            data = _read_exact(proc.stdout, int(parts[2]), path)
            return data if parts[1] == "blob" else None
        if len(parts) == 2 and parts[0] in _SYMLINK_REPLIES and parts[1].isdigit():
            target = _read_exact(proc.stdout, int(parts[1]), path)
            if parts[0] == "symlink":
                where = target.decode("utf-8", "replace")
                raise ParseError(path, f"refusing to read a file outside the project ({where})")
            return None
        if not header:
            _stop(self._procs)
            raise UsageError(f"git cat-file stopped unexpectedly in {self.root}")
        return None


def _read_exact(stream: IO[bytes], size: int, path: Path) -> bytes:
    if size > MAX_FILE_BYTES:
        for _ in range(0, size + 1, 1 << 20):
            stream.read(min(1 << 20, size + 1))
        raise ParseError(path, f"file is too large ({size} bytes; limit {MAX_FILE_BYTES})")
    data = stream.read(size + 1)
    if len(data) != size + 1:
        raise UsageError("git cat-file output ended early")
    return data[:-1]


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    while procs:
        proc = procs.pop()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class GitReader:
    """Reads files of one git revision (`rev`), or of the index (`rev=None`); never checks out."""

    def __init__(self, root: Path, rev: str | None, label: str, cat: _CatFile) -> None:
        self.root, self.rev, self.label, self._cat = root, rev, label, cat
        self._last: tuple[str, bytes | None] | None = None

    def _blob(self, path: Path) -> bytes | None:
        rel = relpath_under(self.root, path)
        if rel is None:
            raise ParseError(path, "refusing to read a file outside the repository")
        if self._last is None or self._last[0] != rel:
            if "\n" in rel:
                raise ParseError(path, "cannot read a file whose name contains a newline from git")
            spec = f"{self.rev}:{rel}" if self.rev is not None else f":0:{rel}"
            self._last = (rel, self._cat.get(spec, path))
        return self._last[1]

    def read_text(self, path: Path) -> str:
        data = self._blob(path)
        if data is None:
            raise ParseError(path, f"no such file at {self.label}")
        return decode(path, data)

    def exists(self, path: Path) -> bool:
        if relpath_under(self.root, path) is None:
            return False
        return self._blob(path) is not None


class WorkTreeReader(DiskReader):
    """The disk under `root` (refusing paths outside it), with `no such file at <label>`."""

    def __init__(self, root: Path, label: str = "working tree") -> None:
        super().__init__(root)
        self.label = label

    def read_text(self, path: Path) -> str:
        if not path.is_file() and relpath_under(self.boundary or Path("/"), path) is not None:
            raise ParseError(path, f"no such file at {self.label}")
        return super().read_text(path)


class _EmptyReader:
    """The empty tree (a repository with no commits yet)."""

    def __init__(self, label: str) -> None:
        self.label = label

    def read_text(self, path: Path) -> str:
        raise ParseError(path, f"no such file at {self.label}")

    def exists(self, path: Path) -> bool:
        return False


def _parse_name_status(data: bytes) -> list[ChangedFile]:
    items = _split_z(data)
    changed: list[ChangedFile] = []
    i = 0
    while i < len(items):
        code = items[i][:1]
        if code in ("R", "C"):
            old, new = items[i + 1], items[i + 2]
            changed.append(ChangedFile(new, "R" if code == "R" else "A", old))
            i += 3
            continue
        status = code if code in ("A", "M", "D", "T") else "M"
        changed.append(ChangedFile(items[i + 1], status))
        i += 2
    return changed


class GitRepo:
    """A git work tree; `change`/`staged` describe what a change adds, reading through git."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cat = _CatFile(root)

    @classmethod
    def find(cls, path: Path) -> GitRepo:
        """The repository containing `path` (a directory or a file)."""
        start = path if path.is_dir() else path.parent
        if not start.is_dir():
            raise UsageError(f"{path}: no such directory")
        done = run_git(start, "rev-parse", "--show-toplevel", ok=(0, 128))
        top = os.fsdecode(done.stdout.strip())
        if done.returncode != 0 or not top:
            raise UsageError(f"{path}: not inside a git work tree")
        return cls(Path(top))

    def close(self) -> None:
        """Stop the `git cat-file` process (also done when the object is collected)."""
        _stop(self._cat._procs)

    def __enter__(self) -> GitRepo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def git(self, *args: str, ok: tuple[int, ...] = (0,)) -> bytes:
        return run_git(self.root, *args, ok=ok).stdout

    def resolve(self, ref: str) -> str:
        """The full commit id `ref` names; a bad ref is a UsageError."""
        if not ref or ref.startswith("-") or any(c in ref for c in "\n\0"):
            raise UsageError(f"bad git revision '{ref}'")
        done = run_git(
            self.root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", ok=(0, 1, 128)
        )
        sha = done.stdout.decode("ascii", "replace").strip()
        if done.returncode != 0 or not sha:
            raise UsageError(f"bad git revision '{ref}'")
        return sha

    def revision(self, ref: str, sha: str) -> Snapshot:
        label = ref if sha.startswith(ref) else f"{ref} ({sha[:7]})"
        reader = GitReader(self.root, sha, label, self._cat)
        return Snapshot(label, self.root, reader, lambda: self._ls_tree(sha))

    def index(self) -> Snapshot:
        reader = GitReader(self.root, None, "index", self._cat)
        return Snapshot("index", self.root, reader, self._ls_index)

    def work_tree(self) -> Snapshot:
        return Snapshot("working tree", self.root, WorkTreeReader(self.root), self._ls_work_tree)

    def _ls_tree(self, sha: str) -> list[str]:
        files = []
        for item in _split_z(self.git("ls-tree", "-r", "-z", "--full-tree", sha)):
            meta, _, name = item.partition("\t")
            if meta.split(" ")[1:2] == ["blob"]:
                files.append(name)
        return files

    def _ls_index(self) -> list[str]:
        entries = (item.partition("\t") for item in _split_z(self.git("ls-files", "-s", "-z")))
        return [name for meta, _, name in entries if not meta.startswith("160000")]

    def _ls_work_tree(self) -> list[str]:
        names = _split_z(self.git("ls-files", "-co", "--exclude-standard", "-z"))
        return [name for name in names if (self.root / name).is_file()]

    def _added(
        self, *revs: str, cached: bool = False, untracked: tuple[str, ...] = ()
    ) -> Callable[[], dict[str, set[int] | None]]:
        def compute() -> dict[str, set[int] | None]:
            flags = ["diff", *_DIFF_FLAGS, "-U0", "--src-prefix=a/", "--dst-prefix=b/"]
            text = self.git(*flags, *(["--cached"] if cached else []), *revs)
            added: dict[str, set[int] | None] = dict.fromkeys(untracked)
            for patch in parse_diff(text.decode("utf-8", "surrogateescape"), "git diff"):
                if patch.new_name is not None:
                    added[patch.new_name] = None if patch.binary else added_by(patch.hunks)
                elif patch.old_name is not None:
                    added[patch.old_name] = set()
            return added

        return compute

    def change(self, base: str, head: str | None) -> Change:
        """`base`..`head`; `head=None` is the working tree (tracked changes + untracked files)."""
        base_sha = self.resolve(base)
        head_sha = self.resolve(head) if head is not None else None
        revs = (base_sha,) if head_sha is None else (base_sha, head_sha)
        changed = _parse_name_status(self.git("diff", *_DIFF_FLAGS, "--name-status", "-z", *revs))
        untracked: tuple[str, ...] = ()
        if head is None:
            others = self.git("ls-files", "--others", "--exclude-standard", "-z")
            untracked = tuple(name for name in _split_z(others) if not name.endswith("/"))
            changed += [ChangedFile(name, "A") for name in untracked]
        head_side = self.work_tree() if head_sha is None else self.revision(str(head), head_sha)
        added = self._added(*revs, untracked=untracked)
        return Change(self.root, self.revision(base, base_sha), head_side, changed, added)

    def staged(self) -> Change:
        """The index against HEAD (against the empty tree before the first commit)."""
        done = run_git(
            self.root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", ok=(0, 1, 128)
        )
        sha = done.stdout.decode("ascii", "replace").strip() if done.returncode == 0 else ""
        revs = (sha,) if sha else ()
        diff = self.git("diff", "--cached", *_DIFF_FLAGS, "--name-status", "-z", *revs)
        if sha:
            base = self.revision("HEAD", sha)
        else:
            label = "empty tree (no commits yet)"
            base = Snapshot(label, self.root, _EmptyReader(label))
        added = self._added(*revs, cached=True)
        return Change(self.root, base, self.index(), _parse_name_status(diff), added)


class _PatchedReader:
    """The base side with the files a patch rewrote (None: deleted) laid over it."""

    def __init__(
        self, root: Path, base: FileReader, files: dict[str, str | None], label: str
    ) -> None:
        self.root, self.base, self.files, self.label = root, base, files, label

    def read_text(self, path: Path) -> str:
        rel = relpath_under(self.root, path)
        if rel is None or rel not in self.files:
            return self.base.read_text(path)
        text = self.files[rel]
        if text is None:
            raise ParseError(path, f"no such file at {self.label}")
        return text

    def exists(self, path: Path) -> bool:
        rel = relpath_under(self.root, path)
        if rel is None or rel not in self.files:
            return self.base.exists(path)
        return self.files[rel] is not None


def _walk(root: Path) -> list[str]:
    from depguard.discover import SKIP_DIRS

    found: list[str] = []
    for current, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        base = Path(current).relative_to(root)
        found += [(base / name).as_posix() for name in names if Path(current, name).is_file()]
    return found


def _disk_files(root: Path) -> Callable[[], list[str]]:
    def listing() -> list[str]:
        done = run_git(root, "ls-files", "-co", "--exclude-standard", "-z", ok=(0, 128))
        if done.returncode != 0:
            return _walk(root)
        return [name for name in _split_z(done.stdout) if (root / name).is_file()]

    return listing


def diff_change(root: Path, diff_text: str, diff_name: str) -> Change:
    """`--diff FILE|-`: base = the working tree of `root`, head = base with the patch applied."""
    root = root.resolve()
    if not root.is_dir():
        raise UsageError(f"{root}: no such directory")
    base = Snapshot("working tree", root, WorkTreeReader(root), _disk_files(root))
    result = apply_diff(
        parse_diff(diff_text, diff_name),
        read=lambda rel: base.text(rel),
        exists=lambda rel: base.reader.exists(root / rel),
        diff_name=diff_name,
    )
    label = f"{diff_name} applied"
    reader = _PatchedReader(root, base.reader, result.files, label)

    def head_files() -> list[str]:
        kept = [name for name in base.files() if result.files.get(name, "") is not None]
        return kept + [name for name, text in result.files.items() if text is not None]

    head = Snapshot(label, root, reader, head_files)
    changed = [ChangedFile(*item) for item in result.changed]
    return Change(root, base, head, changed, lambda: result.added)
