"""The pre-commit hook's fast path: decide from names and added lines alone, stdlib only.

`depguard hook` runs on every commit. When the staged change touches no manifest or
lockfile and adds no import line, nothing can change the dependency surface, so the
hook answers before click, networkx or any parser is imported.
"""

from __future__ import annotations

import re
import subprocess

__all__ = ["is_manifest_name", "is_source_name", "needs_full_check"]

_NPM_NAMES = frozenset({"package-lock.json", "npm-shrinkwrap.json", "package.json"})
_PYTHON_NAMES = frozenset({"uv.lock", "poetry.lock", "pyproject.toml"})
_PYLOCK = re.compile(r"^pylock\.([^.]+\.)?toml$")
_SOURCE_EXTS = frozenset({".py", ".pyi", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".mts",
                          ".cts"})
_POLICY_NAMES = frozenset({".depguard.toml"})
_IMPORT_LINE = re.compile(
    rb"^\+(?!\+\+ ).*(?:\bimport\b|\brequire\s*\(|__import__|\bimport_module\b)", re.MULTILINE)


def is_manifest_name(path: str) -> bool:
    """Whether a file with this repo-relative path is a manifest or lockfile depguard reads.

    Mirrors the parsers' `matches()` (a test keeps the two in step).
    """
    parts = path.split("/")
    name = parts[-1]
    if name in _NPM_NAMES:
        return "node_modules" not in parts[:-1]
    if name in _PYTHON_NAMES or _PYLOCK.match(name):
        return True
    lower = name.lower()
    stem, dot, ext = lower.rpartition(".")
    if not dot or ext not in ("txt", "in", "pip"):
        return False
    if "requirements" in stem or stem.startswith("constraints"):
        return True
    return len(parts) > 1 and parts[-2].lower() == "requirements" and lower != "manifest.in"


def is_source_name(path: str) -> bool:
    dot = path.rfind(".")
    return dot > path.rfind("/") and path[dot:].lower() in _SOURCE_EXTS


def _git(*args: str) -> bytes | None:
    try:
        proc = subprocess.run(["git", "-c", "core.quotepath=off", *args],
                              capture_output=True, check=False)
    except OSError:
        return None
    return proc.stdout if proc.returncode == 0 else None


def needs_full_check() -> bool:
    """False only when the staged change provably cannot change the dependency surface."""
    names = _git("diff", "--cached", "--name-only", "-z", "--no-renames")
    if names is None:
        return True  # not a repo, no git: let the full path report it properly
    staged = [n for n in names.decode("utf-8", "surrogateescape").split("\0") if n]
    if any(is_manifest_name(n) or n.rsplit("/", 1)[-1] in _POLICY_NAMES for n in staged):
        return True
    sources = [n for n in staged if is_source_name(n)]
    if not sources:
        return False
    patch = _git("diff", "--cached", "-U0", "--no-color", "--no-ext-diff", "--", *sources)
    return patch is None or _IMPORT_LINE.search(patch) is not None
