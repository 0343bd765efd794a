"""Find the manifests and lockfiles of a project and parse the ones that define its graph."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from depguard.errors import UsageError
from depguard.models import ParsedManifest
from depguard.parsers import PARSERS, DiskReader, FileReader, parser_for

__all__ = ["SKIP_DIRS", "Discovery", "discover_files", "load_project"]

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "site-packages",
        "dist",
        "build",
        ".eggs",
    }
)

# A lockfile in the same folder supersedes these manifests for the graph.
_LOCKS_FOR = {
    "package.json": ("package-lock.json", "npm-shrinkwrap.json"),
    "pyproject.toml": ("uv.lock", "poetry.lock", "pylock.toml"),
}


@dataclass(slots=True)
class Discovery:
    """The parsed files that make up a project's graph, and the ones set aside."""

    manifests: list[ParsedManifest] = field(default_factory=list)
    superseded: list[ParsedManifest] = field(default_factory=list)
    """Manifests whose packages a lockfile beside them already resolves."""


def _is_venv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file()


def discover_files(root: Path) -> list[Path]:
    """Every supported file under `root`, skipping dependency folders and virtualenvs."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        current = Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS and not d.startswith(".") and not _is_venv(current / d)
        )
        for filename in sorted(filenames):
            path = current / filename
            if parser_for(path) is None or (path.is_symlink() and not _escapes(path, root)):
                continue
            found.append(path)
    return found


def _escapes(link: Path, root: Path) -> bool:
    """A symlink to a file outside the project: kept, so that reading it is refused loudly.

    A link inside the project is skipped (its target is scanned as itself), and so is a
    dangling one; one that leaves the project must not pass silently as "nothing to scan".
    """
    target = link.resolve()
    return target.is_file() and not target.is_relative_to(root.resolve())


def load_project(
    target: Path,
    reader: FileReader | None = None,
    files: Iterable[Path] | None = None,
    parse_as: dict[Path, str] | None = None,
) -> Discovery:
    """Parse `target` (a folder or one file) into manifests; errors propagate as ParseError."""
    if not target.exists():
        raise UsageError(f"{target}: no such file or directory")
    base = target if target.is_dir() else target.parent
    reader = reader or DiskReader(base)
    parse_as = parse_as or {}
    paths = (
        list(files)
        if files is not None
        else (discover_files(target) if target.is_dir() else [target])
    )
    if not paths:
        looked = ", ".join(sorted(PARSERS))
        raise UsageError(f"{target}: no supported manifest found (looked for {looked})")
    parsed: list[ParsedManifest] = []
    for path in paths:
        parser = parser_for(path, parse_as.get(path))
        if parser is None:
            raise UsageError(f"{path}: not a supported manifest or lockfile (use --parse-as)")
        source = posixpath.normpath(os.path.relpath(path, base).replace(os.sep, "/"))
        parsed.append(parser.parse(path, source, reader))
    return select_manifests(parsed)


def select_manifests(parsed: list[ParsedManifest]) -> Discovery:
    """Set aside manifests a lockfile supersedes, included files and compiled pip-tools inputs."""
    discovery = Discovery()
    by_path = {m.path: m for m in parsed}
    included = {dep.source for m in parsed for dep in m.packages.values() if dep.source != m.path}
    for manifest in parsed:
        folder = posixpath.dirname(manifest.path)
        name = posixpath.basename(manifest.path)
        locks = _LOCKS_FOR.get(manifest.kind, ())
        superseded = (
            any(posixpath.join(folder, lock) in by_path for lock in locks) and name in _LOCKS_FOR
        )
        if superseded or manifest.path in included or _compiled_input(manifest, by_path):
            discovery.superseded.append(manifest)
        else:
            discovery.manifests.append(manifest)
    return discovery


def _compiled_input(manifest: ParsedManifest, by_path: dict[str, ParsedManifest]) -> bool:
    """A pip-tools `x.in` whose compiled `x.txt` sits beside it."""
    stem, ext = posixpath.splitext(manifest.path)
    return ext == ".in" and stem + ".txt" in by_path
