"""Unified diffs: parse `git diff` / `diff -u` output and apply it like `patch` (with fuzz)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from depguard.errors import ParseError

__all__ = [
    "FilePatch",
    "Hunk",
    "PatchResult",
    "added_by",
    "apply_diff",
    "apply_hunks",
    "c_unquote",
    "parse_diff",
]

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_EPOCH = re.compile(r"^(1970-01-01|1969-12-31)[ T]")
_BINARY = re.compile(r"^Binary files (.+) and (.+) differ$")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


@dataclass(slots=True)
class Hunk:
    """One `@@ -l,s +l,s @@` block; each line keeps its marker and its own line ending."""

    old_start: int
    old_len: int
    new_start: int
    new_len: int
    line: int
    """1-based line of the `@@` header in the diff."""
    lines: list[str] = field(default_factory=list)


@dataclass(slots=True)
class FilePatch:
    """The changes to one file. Names are as written (see `strip`); None means /dev/null."""

    old_name: str | None
    new_name: str | None
    line: int
    git: bool = False
    strip: int | None = 0
    """Leading components still to strip from the names; None: guess (plain `diff -u`)."""
    hunks: list[Hunk] = field(default_factory=list)
    binary: bool = False
    new_file: bool = False
    deleted_file: bool = False
    rename: bool = False
    copy: bool = False
    old_mode: str | None = None
    new_mode: str | None = None


def c_unquote(text: str) -> str:
    """Undo git's C-style quoting of a path (`"a/caf\\303\\251"`); other text is returned as is."""
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return text
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        char = body[i]
        if char != "\\" or i + 1 == len(body):
            out += char.encode("utf-8", "surrogateescape")
            i += 1
        elif body[i + 1] in _ESCAPES:
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        elif re.match(r"[0-7]{3}", body[i + 1 : i + 4]):
            out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        else:
            out += body[i + 1].encode("utf-8", "surrogateescape")
            i += 2
    return out.decode("utf-8", "surrogateescape")


def _header_name(rest: str) -> tuple[str | None, bool]:
    """The path of a `---`/`+++` line (timestamp removed) and whether it marks an epoch date."""
    rest = rest.rstrip("\r\n")
    if rest.startswith('"'):
        end = _closing_quote(rest)
        name, tail = rest[: end + 1], rest[end + 1 :]
        name = c_unquote(name)
    else:
        name, _, tail = rest.partition("\t")
        name = name.rstrip(" ") if tail else name.rstrip()
    epoch = bool(_EPOCH.match(tail.strip()))
    return (None if name == "/dev/null" else name), epoch


def _closing_quote(text: str) -> int:
    i = 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        i += 1
    return len(text) - 1


def _git_header_names(rest: str) -> tuple[str, str] | None:
    """`a/x b/y` of a `diff --git` line; unquoted names with spaces need equal halves."""
    rest = rest.rstrip("\r\n")
    if rest.startswith('"'):
        end = _closing_quote(rest)
        first, second = c_unquote(rest[: end + 1]), rest[end + 1 :].strip()
        return first, c_unquote(second)
    start = rest.rfind('"', 0, len(rest) - 1) if rest.endswith('"') else -1
    if start >= 0:
        return rest[:start].strip(), c_unquote(rest[start:])
    half = (len(rest) - 1) // 2
    if (
        len(rest) % 2 == 1
        and rest[half] == " "
        and rest[:half].split("/", 1)[-1] == rest[half + 1 :].split("/", 1)[-1]
    ):
        return rest[:half], rest[half + 1 :]
    parts = rest.split(" ")
    return (parts[0], parts[-1]) if len(parts) == 2 else None


def _prefixed(old: str, new: str) -> bool:
    """`a/` `b/`, or the `diff.mnemonicPrefix` pairs (`c/` `w/`, `i/` `w/`, ...)."""
    first, second = old[:2], new[:2]
    return first != second and all(p[1:] == "/" and p[0] in "abciow" for p in (first, second))


def _strip_prefix(name: str | None, prefixed: bool) -> str | None:
    return name[2:] if prefixed and name is not None and name[1:2] == "/" else name


class _Parser:
    def __init__(self, text: str, diff_name: str) -> None:
        self.lines = text.split("\n")
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.name = diff_name
        self.i = 0

    def error(self, message: str, index: int | None = None) -> ParseError:
        return ParseError(self.name, message, (self.i if index is None else index) + 1)

    def peek(self, offset: int = 0) -> str | None:
        j = self.i + offset
        return self.lines[j].rstrip("\r") if j < len(self.lines) else None

    def parse(self) -> list[FilePatch]:
        patches: list[FilePatch] = []
        while self.i < len(self.lines):
            line = self.peek() or ""
            if line.startswith("diff --git "):
                patches.append(self.git_section())
            elif line.startswith("--- ") and (self.peek(1) or "").startswith("+++ "):
                patches.append(self.plain_section())
            elif _BINARY.match(line):
                patches.append(self.plain_binary(line))
            elif line.startswith("@@ "):
                raise self.error("hunk without a file header (--- / +++ lines)")
            else:
                self.i += 1
        return patches

    def plain_binary(self, line: str) -> FilePatch:
        match = _BINARY.match(line)
        assert match is not None
        old, new = (_header_name(name)[0] for name in match.groups())
        self.i += 1
        return FilePatch(old, new, self.i, strip=None, binary=True)

    def plain_section(self) -> FilePatch:
        start = self.i
        old, old_epoch = _header_name((self.peek() or "")[4:])
        new, new_epoch = _header_name((self.peek(1) or "")[4:])
        self.i += 2
        patch = FilePatch(old, new, start + 1, strip=None)
        self.hunks(patch)
        spans = [(h.old_len, h.new_len) for h in patch.hunks]
        single = len(spans) == 1
        patch.new_file = old is None or (old_epoch and single and spans[0][0] == 0)
        patch.deleted_file = new is None or (new_epoch and single and spans[0][1] == 0)
        return patch

    def git_section(self) -> FilePatch:
        start = self.i
        names = _git_header_names((self.peek() or "")[len("diff --git ") :]) or ("a/", "b/")
        prefixed = _prefixed(*names)
        old, new = (_strip_prefix(name, prefixed) for name in names)
        patch = FilePatch(old, new, start + 1, git=True)
        self.i += 1
        while (line := self.peek()) is not None and not line.startswith(("diff --git ", "@@ ")):
            if line.startswith("--- ") and (self.peek(1) or "").startswith("+++ "):
                minus, plus = _header_name(line[4:])[0], _header_name((self.peek(1) or "")[4:])[0]
                patch.old_name = _strip_prefix(minus, prefixed)
                patch.new_name = _strip_prefix(plus, prefixed)
                self.i += 2
                break
            if not self.extended_header(patch, line):
                break
            self.i += 1
        self.hunks(patch)
        if not (patch.old_name or patch.new_name):
            raise self.error("cannot read the file names of this `diff --git` section", start)
        if patch.new_file:
            patch.old_name = None
        if patch.deleted_file:
            patch.new_name = None
        return patch

    def extended_header(self, patch: FilePatch, line: str) -> bool:
        key, _, value = line.partition(" ")
        if line.startswith(("rename from ", "copy from ")):
            patch.old_name = c_unquote(line.split(" ", 2)[2])
            patch.rename, patch.copy = key == "rename", key == "copy"
        elif line.startswith(("rename to ", "copy to ")):
            patch.new_name = c_unquote(line.split(" ", 2)[2])
        elif line.startswith("new file mode "):
            patch.new_file, patch.new_mode = True, line.split(" ")[-1]
        elif line.startswith("deleted file mode "):
            patch.deleted_file, patch.old_mode = True, line.split(" ")[-1]
        elif key in ("old", "new") and value.startswith("mode "):
            setattr(patch, f"{key}_mode", value.split(" ")[-1])
        elif line == "GIT binary patch" or _BINARY.match(line):
            patch.binary = True
        elif not line.startswith(("index ", "similarity index ", "dissimilarity index ")):
            return patch.binary and bool(re.match(r"^(literal|delta) \d+$|^[A-Za-z]|^$", line))
        return True

    def hunks(self, patch: FilePatch) -> None:
        while (line := self.peek()) is not None and line.startswith("@@"):
            match = _HUNK.match(line)
            if match is None:
                raise self.error("malformed hunk header (expected `@@ -l,s +l,s @@`)")
            old_start, old_len, new_start, new_len = (
                int(g) if g is not None else 1 for g in match.groups()
            )
            hunk = Hunk(old_start, old_len, new_start, new_len, self.i + 1)
            self.i += 1
            self.hunk_body(hunk)
            patch.hunks.append(hunk)

    def hunk_body(self, hunk: Hunk) -> None:
        old, new = hunk.old_len, hunk.new_len
        while old > 0 or new > 0:
            if self.i >= len(self.lines):
                raise self.error(f"the diff ends inside the hunk at line {hunk.line}", self.i - 1)
            raw = self.lines[self.i]
            if raw in ("", "\r"):  # an editor stripped the space of an empty context line
                raw = " " + raw
            marker = raw[:1]
            if marker == "\\":
                self.no_newline(hunk)
                continue
            if marker not in " -+" or (marker != "+" and old == 0) or (marker != "-" and new == 0):
                raise self.error(
                    f"malformed hunk: {old} old and {new} new line(s) still expected"
                    f" for the hunk at line {hunk.line}"
                )
            old -= marker != "+"
            new -= marker != "-"
            hunk.lines.append(marker + raw[1:] + "\n")
            self.i += 1
        if (self.peek() or "").startswith("\\"):
            self.no_newline(hunk)

    def no_newline(self, hunk: Hunk) -> None:
        if not hunk.lines:
            raise self.error("`\\ No newline at end of file` before any line")
        hunk.lines[-1] = hunk.lines[-1][:-1]
        self.i += 1


def parse_diff(text: str, diff_name: str) -> list[FilePatch]:
    """Every file section of a unified diff; malformed input is a ParseError naming the line."""
    return _Parser(text, diff_name).parse()


def _key(line: str, loose: bool) -> str:
    return line.rstrip("\r\n").lstrip("\ufeff") if loose else line


def _matches(lines: list[str], old: list[str], at: int, loose: bool) -> bool:
    return all(_key(lines[at + k], loose) == _key(text, loose) for k, text in enumerate(old))


def _trim(body: list[str], fuzz: int) -> tuple[int, int]:
    """How many leading/trailing context lines fuzz may ignore."""
    head = next((k for k, line in enumerate(body) if line[0] != " "), len(body))
    tail = next((k for k, line in enumerate(reversed(body)) if line[0] != " "), len(body))
    return min(fuzz, head), min(fuzz, tail)


def _locate(
    lines: list[str], hunk: Hunk, want: int, floor: int
) -> tuple[int, int, list[str], bool] | None:
    """Where the hunk's old side matches: exact place first, then nearby, then with fuzz."""
    for fuzz, loose in ((0, False), (0, True), (1, True), (2, True)):
        head, tail = _trim(hunk.lines, fuzz)
        body = hunk.lines[head : len(hunk.lines) - tail]
        old = [line[1:] for line in body if line[0] != "+"]
        if fuzz and not old:
            continue
        last = len(lines) - len(old)
        # a stated line far outside the file (`@@ -99999999999 ...`) searches from its edge
        start = min(max(want + head, floor), max(last, floor))
        for distance in range(max(start - floor, last - start, 0) + 1):
            for at in (start - distance, start + distance) if distance else (start,):
                if floor <= at <= last and _matches(lines, old, at, loose):
                    return at, head, body, loose
    return None


def _eol(lines: list[str]) -> str | None:
    for line in lines:
        if line.endswith("\n"):
            return "\r\n" if line.endswith("\r\n") else "\n"
    return None


def _adapt(text: str, eol: str | None) -> str:
    if eol is None or not text.endswith("\n"):
        return text
    return text.rstrip("\r\n") + eol


def apply_hunks(
    original: str, hunks: list[Hunk], diff_name: str, path: str
) -> tuple[str, set[int]]:
    """Apply the hunks in order; returns the new text and the 1-based line numbers added."""
    lines = _split_lines(original)
    out: list[str] = []
    added: set[int] = set()
    pos = offset = 0
    for number, hunk in enumerate(hunks, 1):
        stated = (hunk.old_start - 1 if hunk.old_len else hunk.old_start) + offset
        found = _locate(lines, hunk, stated, pos)
        if found is None:
            raise ParseError(
                diff_name,
                f"hunk #{number} for {path} does not apply (expected at line {hunk.old_start})",
                hunk.line,
            )
        at, head, body, loose = found
        eol = _eol(lines) if loose else None
        out.extend(lines[pos:at])
        cursor = at
        for line in body:
            if line[0] == "+":
                out.append(_adapt(line[1:], eol))
                added.add(len(out))
            else:
                if line[0] == " ":
                    out.append(lines[cursor])
                cursor += 1
        offset += at - (stated + head)
        pos = cursor
    out.extend(lines[pos:])
    return "".join(out), added


def _split_lines(text: str) -> list[str]:
    """Lines with their endings; unlike str.splitlines only \\n ends a line, as in `patch`."""
    pieces = text.split("\n")
    lines = [piece + "\n" for piece in pieces[:-1]]
    return [*lines, pieces[-1]] if pieces[-1] else lines


def added_by(hunks: list[Hunk]) -> set[int]:
    """The new-side line numbers of a diff's `+` lines, as stated in the hunk headers."""
    lines: set[int] = set()
    for hunk in hunks:
        number = hunk.new_start
        for line in hunk.lines:
            if line[0] == "+":
                lines.add(number)
            if line[0] != "-":
                number += 1
    return lines


@dataclass(slots=True)
class PatchResult:
    """What applying a diff does to a tree."""

    files: dict[str, str | None] = field(default_factory=dict)
    """Repo-relative path -> new text (None: deleted)."""
    changed: list[tuple[str, str, str | None, str]] = field(default_factory=list)
    """(path, status, old_path, note), as `gitio.ChangedFile` takes them."""
    added: dict[str, set[int] | None] = field(default_factory=dict)


def _strip(name: str, level: int) -> str | None:
    parts = name.split("/")
    return "/".join(parts[level:]) if level < len(parts) else None


def _is_safe(rel: str | None) -> bool:
    if not rel:
        return False
    norm = posixpath.normpath(rel)
    return not (norm.startswith(("/", "../")) or norm in (".", ".."))


def _norm(rel: str | None) -> str | None:
    return posixpath.normpath(rel) if rel else None


def _file_type(mode: str | None) -> int | None:
    return int(mode, 8) & 0o170000 if mode and mode.isdigit() else None


class _Applier:
    def __init__(
        self, read: Callable[[str], str | None], exists: Callable[[str], bool], diff_name: str
    ) -> None:
        self.read, self.exists, self.diff_name = read, exists, diff_name
        self.result = PatchResult()
        self.level: int | None = None

    def present(self, rel: str) -> bool:
        files = self.result.files
        return files[rel] is not None if rel in files else self.exists(rel)

    def current(self, rel: str) -> str:
        files = self.result.files
        text = files[rel] if rel in files else self.read(rel)
        return text or ""

    def error(self, message: str, patch: FilePatch) -> ParseError:
        return ParseError(self.diff_name, message, patch.line)

    def names(self, patch: FilePatch) -> tuple[str | None, str | None]:
        if patch.strip is not None:
            old, new = patch.old_name, patch.new_name
        else:
            old = new = self.guess(patch)
            old, new = (None if patch.new_file else old), (None if patch.deleted_file else new)
        for rel in (old, new):
            if rel is not None and not _is_safe(rel):
                raise self.error(f"refusing a path outside the project: {rel!r}", patch)
        if old is None and new is None:
            raise self.error("a file section without a file name", patch)
        return _norm(old), _norm(new)

    def guess(self, patch: FilePatch) -> str:
        """`diff -u` names carry unknown prefixes: take the level that names an existing file."""
        names = [name for name in (patch.new_name, patch.old_name) if name is not None]
        if not names:  # `--- /dev/null` and `+++ /dev/null`
            raise self.error("a file section without a file name", patch)
        levels = ([self.level] if self.level is not None else []) + [1, 0]
        for level in levels:
            for name in names:
                rel = _strip(name, level)
                if rel and _is_safe(rel) and self.present(posixpath.normpath(rel)):
                    self.level = level
                    return rel
        level = self.level if self.level is not None else (1 if "/" in names[0] else 0)
        return _strip(names[0], level) or names[0]

    def apply(self, patch: FilePatch) -> None:
        old, new = self.names(patch)
        path = new or old
        assert path is not None
        if patch.binary:
            status = "A" if old is None else "D" if new is None else "R" if patch.rename else "M"
            self.record(
                path, status, old if patch.rename else None, "binary patch not applied", None
            )
            return
        if old is None:
            if self.present(path):
                raise self.error(f"{path} already exists (the diff creates it)", patch)
            original = ""
        elif not self.present(old):
            raise self.error(f"{old}: no such file to patch", patch)
        else:
            original = self.current(old)
        text, added = apply_hunks(original, patch.hunks, self.diff_name, old or path)
        if new is None:
            if text:
                raise self.error(f"{old} still has content after the patch that deletes it", patch)
            self.result.files[path] = None
            self.record(path, "D", None, "", set())
            return
        if old is not None and old != new and not patch.copy:
            self.result.files[old] = None
        self.result.files[new] = text
        self.record(new, self.status(patch, old, new), old if old != new else None, "", added)

    @staticmethod
    def status(patch: FilePatch, old: str | None, new: str) -> str:
        if old is None or patch.copy:
            return "A"
        if old != new:
            return "R"
        old_type, new_type = _file_type(patch.old_mode), _file_type(patch.new_mode)
        return "T" if old_type is not None and new_type not in (None, old_type) else "M"

    def record(
        self, path: str, status: str, old: str | None, note: str, added: set[int] | None
    ) -> None:
        result = self.result
        if any(item[0] == path for item in result.changed):
            result.added[path] = None  # patched twice: line numbers are no longer trustworthy
            return
        result.changed.append((path, status, old, note))
        result.added[path] = added


def apply_diff(
    patches: list[FilePatch],
    read: Callable[[str], str | None],
    exists: Callable[[str], bool],
    diff_name: str,
) -> PatchResult:
    """Apply every file section in memory over a base tree seen through `read`/`exists`."""
    applier = _Applier(read, exists, diff_name)
    for patch in patches:
        applier.apply(patch)
    return applier.result
