"""pip requirements files (`requirements*.txt`, pip-tools `*.in`, `constraints*.txt`).

Follows pip's requirements-file format: backslash continuations are joined first,
then comments (a `#` at the start or after whitespace) are stripped; each logical
line is either options only (`-r`, `-c`, `-e`, `--index-url`, ...) or a requirement
with per-requirement options (`--hash`, `--config-settings`). `-r`/`-c` paths are
relative to the including file; each file is read once per role, so include
cycles are harmless. `${VAR}` references are left as written.

pip-compile and `uv pip compile` output carries `# via` annotations; when a file
has them they give the real parent -> child edges, otherwise every requirement
hangs off the root.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import ClassVar
from urllib.parse import unquote, urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from depguard.errors import ParseError
from depguard.models import (
    Dependency,
    Ecosystem,
    Edge,
    ParsedManifest,
    Root,
    Skipped,
    canonical_name,
    node_id,
)
from depguard.parsers._pip_options import _clip, _cut, _first_line, _split_options
from depguard.parsers.base import FileReader, ManifestParser

__all__ = ["RequirementsParser"]

_PYPI = Ecosystem.PYPI
_NEWLINE = re.compile(r"\r\n|\r|\n")
_EGG = re.compile(r"[#&]egg=([^&]*)")
_ARCHIVES = (".zip", ".whl", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tlz", ".tar.lz",
             ".tar.lzma", ".tar.gz", ".tgz", ".tar")
_PLAIN_SCHEMES = frozenset({"http", "https", "file", "ftp", "git", "svn"})
_VCS = frozenset({"git", "hg", "svn", "bzr"})
_STRONG_HASHES = frozenset({"sha256", "sha384", "sha512"})
_VIA = re.compile(r"via(?:\s+(.*))?$")
_MAX_REQUIREMENT = 100_000
"""Longer is no real requirement, and PEP 508 parsing would take seconds."""
_COMMENT = re.compile(r"(?<!\S)#")


@dataclass
class _Entry:
    """One requirement line before it becomes a Dependency (its version is final once `id`
    is first read: constraints are applied before the graph is built)."""

    name: str
    source: str
    line: int
    specifier: str = ""
    version: str | None = None
    pinned: bool = False
    extras: tuple[str, ...] = ()
    marker: str | None = None
    resolved: str | None = None
    hashes: tuple[str, ...] = ()
    parents: list[str] = field(default_factory=list)

    @cached_property
    def id(self) -> str:
        return node_id(_PYPI, self.name, self.version)


@dataclass(slots=True)
class _File:
    """What one file contributed; `annotated` when it carries pip-compile `# via` lines."""

    source: str
    constraint: bool
    entries: list[_Entry] = field(default_factory=list)
    annotated: bool = False


class RequirementsParser(ManifestParser):
    name: ClassVar[str] = "requirements.txt"
    ecosystem: ClassVar[Ecosystem] = Ecosystem.PYPI

    @classmethod
    def matches(cls, path: Path) -> bool:
        name = path.name.lower()
        stem, dot, ext = name.rpartition(".")
        if not dot or ext not in ("txt", "in", "pip"):
            return False
        if "requirements" in stem or "constraints" in stem:
            return True
        return path.parent.name.lower() == "requirements" and name != "manifest.in"

    def parse(self, path: Path, source: str, reader: FileReader) -> ParsedManifest:
        root = Root(name=_root_name(path, source), source=source, ecosystem=_PYPI)
        manifest = ParsedManifest(path=source, kind=self.name, ecosystem=_PYPI, roots=[root])
        files: list[_File] = []
        _Reader(reader, files, manifest.skipped).read(path, source, constraint=False)
        requirements = [f for f in files if not f.constraint]
        _apply_constraints(requirements, [f for f in files if f.constraint])
        _build_graph(manifest, root, requirements)
        entries = [e for f in requirements for e in f.entries]
        manifest.locked = bool(entries) and all(f.annotated for f in requirements if f.entries) \
            and all(e.pinned for e in entries)
        return manifest


def _root_name(path: Path, source: str) -> str:
    """The folder holding the file; a `requirements/` folder stands for its parent."""
    folder = path.resolve().parent
    if folder.name.lower() == "requirements" and folder.parent.name:
        folder = folder.parent
    return folder.name or PurePosixPath(source).parent.name or "requirements"


class _Reader:
    """Walks a requirements file and its includes, each file once per role."""

    def __init__(self, reader: FileReader, files: list[_File], skipped: list[Skipped]) -> None:
        self.reader = reader
        self.files = files
        self.skipped = skipped
        self.seen: set[tuple[str, bool]] = set()

    def read(self, path: Path, source: str, constraint: bool,
             origin: tuple[str, int] | None = None) -> None:
        """Read one file; `origin` is the (file, line) that included it."""
        key = (os.path.normpath(path), constraint)
        if key in self.seen:
            return
        self.seen.add(key)
        try:
            text = self.reader.read_text(path)
        except ParseError as exc:
            if exc.line is None and origin is not None:  # e.g. outside the project
                raise ParseError(origin[0], f"{source}: {exc.reason}", origin[1]) from exc
            raise ParseError(source, exc.reason, exc.line) from exc
        text = text.removeprefix("\ufeff")
        if "\x00" in text:
            raise ParseError(source, "binary data (NUL byte) in a text file",
                             text.count("\n", 0, text.index("\x00")) + 1)
        current = _File(source=source, constraint=constraint)
        self.files.append(current)
        last: _Entry | None = None
        in_via = False
        for number, content, comment in _logical_lines(text):
            if content:
                last = self._line(path, current, number, content)
                in_via = False
            if comment is not None and last is not None:
                in_via = _annotate(current, last, comment, in_via)

    def _line(self, path: Path, current: _File, number: int, content: str) -> _Entry | None:
        args, opts = _split_options(current.source, number, content)
        if args:
            entry = _requirement(current.source, number, args, self.skipped)
            if entry is not None:
                entry.hashes = _hashes(current.source, number, opts.get("hash", []))
                current.entries.append(entry)
            return entry
        for included in opts.get("r", []):
            self._include(path, current, number, included, constraint=current.constraint)
        for included in opts.get("c", []):
            self._include(path, current, number, included, constraint=True)
        for editable in opts.get("e", []):
            entry = _editable(current.source, number, editable, self.skipped)
            if entry is not None:
                current.entries.append(entry)
        return None

    def _include(self, path: Path, current: _File, number: int, name: str,
                 constraint: bool) -> None:
        if _is_url(name):
            self.skipped.append(Skipped(name, "remote requirements file is not fetched",
                                        current.source, number))
            return
        target = Path(os.path.normpath(path.parent / name))
        if not self.reader.exists(target):
            if "${" in name:  # pip expands it from the environment at install time
                self.skipped.append(Skipped(name, "include path uses an environment variable",
                                            current.source, number))
                return
            raise ParseError(current.source, f"included file not found: {_cut(name)}", number)
        display = posixpath.normpath(posixpath.join(posixpath.dirname(current.source), name))
        self.read(target, display, constraint, (current.source, number))


def _logical_lines(text: str) -> Iterator[tuple[int, str, str | None]]:
    """(first line number, content, comment) per logical line, as pip joins and strips them."""
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(_NEWLINE.split(text), 1):
        is_comment = raw.lstrip().startswith("#")
        if raw.endswith("\\") and not is_comment:
            start = start if parts else number
            parts.append(raw[:-1])
        elif parts:
            parts.append(" " + raw if is_comment else raw)
            yield (start, *_split_comment("".join(parts)))
            parts = []
        else:
            yield (number, *_split_comment(raw))
    if parts:
        yield (start, *_split_comment("".join(parts)))


def _split_comment(line: str) -> tuple[str, str | None]:
    """A `#` at the start of the line or after whitespace starts a comment."""
    match = _COMMENT.search(line)
    if match is None:
        return line.strip(), None
    return line[:match.start()].strip(), line[match.start():].strip()


def _annotate(current: _File, entry: _Entry, comment: str, in_via: bool) -> bool:
    """Record pip-compile `# via` parents on `entry`; returns whether a `# via` block is open."""
    body = comment.lstrip("#").strip()
    match = _VIA.match(body)
    if match:
        current.annotated = True
        rest = (match.group(1) or "").strip()
        entry.parents.extend(p.strip() for p in rest.split(",") if p.strip())
        return not rest
    if in_via and body and comment.startswith("#  "):
        entry.parents.append(body)
        return True
    return False


def _hashes(source: str, number: int, values: list[str]) -> tuple[str, ...]:
    for value in values:
        algorithm, sep, digest = value.partition(":")
        if not sep or not digest:
            raise ParseError(source, f"--hash needs ALGORITHM:DIGEST, got {_clip(value)}", number)
        if algorithm not in _STRONG_HASHES:
            raise ParseError(source, f"unsupported --hash algorithm {_clip(algorithm)}", number)
    return tuple(dict.fromkeys(values))


def _is_url(text: str) -> bool:
    scheme, sep, _ = text.partition(":")
    scheme = scheme.lower()
    vcs = "+" in scheme and scheme.partition("+")[0] in _VCS
    return bool(sep) and (scheme in _PLAIN_SCHEMES or vcs)


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or text.startswith(".")


def _requirement(source: str, number: int, text: str, skipped: list[Skipped]) -> _Entry | None:
    """A PEP 508 requirement, or a URL / local path (pip's rules, without touching the disk)."""
    if len(text) > _MAX_REQUIREMENT:
        raise ParseError(source, f"requirement is too long ({len(text)} characters; "
                         f"limit {_MAX_REQUIREMENT})", number)
    is_url = _is_url(text)
    target, sep, marker_text = text.partition("; " if is_url else ";")
    target = target.strip()
    archive = target.lower().endswith(_ARCHIVES) and not (
        "@" in target and not _looks_like_path(target.split("@", 1)[0]))
    if is_url or archive:
        marker = _marker(source, number, marker_text) if sep else None
        return _link(source, number, target, marker, skipped)
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        if _looks_like_path(target):
            skipped.append(Skipped(target, "local path: name unknown without building it",
                                   source, number))
            return None
        raise ParseError(source, f"invalid requirement {_clip(text)}: {_first_line(exc)}",
                         number) from exc
    entry = _Entry(name=canonical_name(_PYPI, req.name), source=source, line=number,
                   specifier=str(req.specifier), extras=tuple(sorted(req.extras)),
                   marker=str(req.marker) if req.marker else None, resolved=req.url)
    entry.version = _exact_version(req.specifier)
    entry.pinned = entry.version is not None
    if req.url and entry.version is None:
        entry.version = _wheel_version(req.url, entry.name)
    return entry


def _marker(source: str, number: int, text: str) -> str | None:
    if not text.strip():
        return None
    try:
        return str(Marker(text.strip()))
    except InvalidMarker as exc:
        raise ParseError(source, f"invalid environment marker: {_first_line(exc)}",
                         number) from exc


def _link(source: str, number: int, url: str, marker: str | None,
          skipped: list[Skipped]) -> _Entry | None:
    """A bare URL or archive path: a wheel names itself, anything else needs `#egg=`."""
    filename = unquote(posixpath.basename(urlsplit(url).path if _is_url(url) else url))
    if filename.lower().endswith(".whl"):
        try:
            name = parse_wheel_filename(filename)[0]
        except InvalidWheelFilename as exc:
            raise ParseError(source, f"invalid wheel file name: {_first_line(exc)}",
                             number) from exc
        version = filename.split("-")[1]  # as written, like an `==` pin
        return _Entry(name=name, source=source, line=number, specifier=f"=={version}",
                      version=version, marker=marker, resolved=url)
    egg = _EGG.search(url)
    if egg is None:
        skipped.append(Skipped(url, "URL or path without a package name (no #egg=)",
                               source, number))
        return None
    try:
        req = Requirement(egg.group(1))
    except InvalidRequirement as exc:
        raise ParseError(source, f"invalid #egg= fragment {_clip(egg.group(1))}", number) from exc
    return _Entry(name=canonical_name(_PYPI, req.name), source=source, line=number,
                  extras=tuple(sorted(req.extras)), marker=marker, resolved=url)


def _editable(source: str, number: int, target: str, skipped: list[Skipped]) -> _Entry | None:
    """`-e` takes a local project path or a VCS URL (pip refuses anything else)."""
    scheme = target.partition(":")[0].lower()
    if _is_url(target) and scheme != "file":
        if scheme.partition("+")[0] not in _VCS:
            raise ParseError(source, f"{_clip(target)} should be a path to a local project or a "
                             "VCS URL (git+https://...)", number)
        return _link(source, number, target, None, skipped)
    skipped.append(Skipped(target, "editable local project: name unknown without building it",
                           source, number))
    return None


def _exact_version(spec: SpecifierSet) -> str | None:
    """The version an `==`/`===` pin fixes; `==1.2.*` is a range, not a version."""
    pins = {s.version for s in spec if s.operator in ("==", "===") and not s.version.endswith("*")}
    return pins.pop() if len(pins) == 1 else None


def _wheel_version(url: str, name: str) -> str | None:
    filename = unquote(posixpath.basename(urlsplit(url).path))
    try:
        wheel_name = parse_wheel_filename(filename)[0]
    except InvalidWheelFilename:
        return None
    return filename.split("-")[1] if wheel_name == name else None


def _apply_constraints(requirements: list[_File], constraints: list[_File]) -> None:
    """A constraint only fills in the version of an unpinned requirement it pins exactly.

    Constraint lines never add packages; a conditional (marker) constraint or one the
    requirement's own specifier rejects is ignored.
    """
    pins: dict[str, str] = {}
    for entry in (e for f in constraints for e in f.entries):
        if entry.pinned and entry.marker is None and entry.version is not None:
            pins.setdefault(entry.name, entry.version)
    for entry in (e for f in requirements for e in f.entries):
        pin = pins.get(entry.name)
        if entry.version is None and entry.resolved is None and pin is not None \
                and SpecifierSet(entry.specifier).contains(pin, prereleases=True):
            entry.version = pin


def _build_graph(manifest: ParsedManifest, root: Root, files: list[_File]) -> None:
    """Edges from `# via` annotations where a file has them, else from the root."""
    merged = _merge(files)
    by_name: dict[str, list[str]] = {}
    for entry_id, entry in merged.items():
        by_name.setdefault(entry.name, []).append(entry_id)
    root_id = root.id
    edges: dict[tuple[str, str], Edge] = {}
    for file in files:
        local = {e.name: e.id for e in file.entries}
        for entry in file.entries:
            for parent in _parent_ids(entry, file.annotated, local, by_name) or [None]:
                key = (parent or root_id, entry.id)
                if key not in edges:
                    spec = "" if parent else entry.specifier
                    edges[key] = Edge(parent=key[0], child=key[1], specifier=spec)
    direct = {child for parent, child in edges if parent == root_id}
    for entry_id, entry in merged.items():
        manifest.add_package(Dependency(
            ecosystem=_PYPI, name=canonical_name(_PYPI, entry.name), version=entry.version,
            specifier=entry.specifier, direct=entry_id in direct, source=entry.source,
            line=entry.line, extras=entry.extras, marker=entry.marker,
            resolved=entry.resolved, hashes=entry.hashes))
    manifest.edges.extend(edges.values())


def _parent_ids(entry: _Entry, annotated: bool, local: dict[str, str],
                by_name: dict[str, list[str]]) -> list[str | None]:
    """Parent node ids from `# via`; None stands for the root (`-r file`, `project (file)`)."""
    if not annotated:
        return []
    parents: list[str | None] = []
    for via in entry.parents:
        if via.startswith("-c ") or via.startswith("--constraint"):
            continue
        if via.startswith("-") or "(" in via:
            parents.append(None)
            continue
        name = canonical_name(_PYPI, re.split(r"[\s\[]", via, maxsplit=1)[0])
        found = [local[name]] if name in local else by_name.get(name, [])
        parents.extend(found or [None])
    return list(dict.fromkeys(parents))


def _merge(files: list[_File]) -> dict[str, _Entry]:
    """One entry per node id: extras and hashes united, markers or-ed, specifiers and-ed."""
    groups: dict[str, list[_Entry]] = {}
    for entry in (e for f in files for e in f.entries):
        groups.setdefault(entry.id, []).append(entry)
    merged: dict[str, _Entry] = {}
    for entry_id, group in groups.items():
        first = merged[entry_id] = group[0] if len(group) == 1 else replace(group[0])
        if len(group) == 1:
            continue
        first.extras = tuple(sorted({x for e in group for x in e.extras}))
        first.hashes = tuple(dict.fromkeys(h for e in group for h in e.hashes))
        specifiers = set(e.specifier for e in group)
        if len(specifiers) > 1:
            first.specifier = str(SpecifierSet(",".join(filter(None, specifiers))))
        markers = list(dict.fromkeys(e.marker for e in group))
        first.marker = None if None in markers else (
            markers[0] if len(markers) == 1 else " or ".join(f"({m})" for m in markers))
    return merged
