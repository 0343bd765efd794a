"""Reading OSV records for the store: zip archives, folders and files, safely.

Only the storage view of a record is taken here (id, timestamps, aliases and
the affected package names). What a record means is `osv_record.py`'s job.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from depguard.errors import ParseError

__all__ = ["MAX_ENTRY_BYTES", "MAX_PROBLEMS", "Row", "iter_records", "to_row"]

MAX_ENTRY_BYTES = 16 * 1024 * 1024
"""One OSV record; the largest real ones are a few hundred KB."""
MAX_TOTAL_BYTES = 8 * 1024 * 1024 * 1024
MAX_ENTRIES = 2_000_000
MAX_PROBLEMS = 20

Problem = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Row:
    """A record reduced to what the store indexes, plus the compressed original."""

    id: str
    modified: str
    published: str | None
    withdrawn: str | None
    summary: str | None
    aliases: tuple[str, ...]
    packages: frozenset[tuple[str, str]]
    raw: bytes

    def advisory_values(self) -> tuple[object, ...]:
        return (self.id, self.modified, self.published, self.withdrawn, self.summary,
                int(self.id.startswith("MAL-")), json.dumps(list(self.aliases)), self.raw)


def iter_records(path: Path, problem: Problem) -> Iterator[tuple[str, object]]:
    """Yield `(where, decoded JSON)` for every record; unreadable entries go to `problem`."""
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.suffix.lower() == ".json"):
            if file.is_file():
                yield from _from_file(file, problem)
    elif zipfile.is_zipfile(path):
        yield from _from_zip(path, problem)
    elif path.suffix.lower() == ".zip":
        raise ParseError(path, "not a valid zip archive (truncated or corrupt)")
    elif path.suffix.lower() == ".json":
        yield from _from_file(path, problem)
    else:
        raise ParseError(path, "not an OSV all.zip, a folder of .json records or a .json record")


def _from_file(path: Path, problem: Problem) -> Iterator[tuple[str, object]]:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_ENTRY_BYTES + 1)
    except OSError as exc:
        problem(f"{path}: cannot read ({exc.strerror})")
        return
    yield from _decode(str(path), data, problem)


def _decode(where: str, data: bytes, problem: Problem) -> Iterator[tuple[str, object]]:
    if len(data) > MAX_ENTRY_BYTES:
        problem(f"{where}: larger than {MAX_ENTRY_BYTES} bytes")
        return
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        problem(f"{where}: not valid JSON ({exc})")
        return
    except RecursionError:
        problem(f"{where}: not valid JSON (nested too deeply)")
        return
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            yield f"{where}[{i}]", item
    else:
        yield where, doc


def _from_zip(path: Path, problem: Problem) -> Iterator[tuple[str, object]]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = _checked_members(path, archive)
            for info in members:
                with archive.open(info) as fh:
                    data = fh.read(MAX_ENTRY_BYTES + 1)
                if len(data) > MAX_ENTRY_BYTES:
                    raise ParseError(path, f"entry {info.filename!r} expands past its size")
                yield from _decode(f"{path.name}:{info.filename}", data, problem)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise ParseError(path, f"corrupt zip archive ({exc})") from exc
    except OSError as exc:
        raise ParseError(path, f"cannot read zip archive ({exc.strerror or exc})") from exc


def _checked_members(path: Path, archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """Refuse the whole archive on an unsafe name or a zip-bomb sized entry."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ParseError(path, f"too many entries ({len(infos)}; limit {MAX_ENTRIES})")
    total = 0
    for info in infos:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
            raise ParseError(path, f"unsafe entry name {info.filename!r}; archive refused")
        if info.file_size > MAX_ENTRY_BYTES:
            raise ParseError(path, f"entry {info.filename!r} is too large"
                                   f" ({info.file_size} bytes; limit {MAX_ENTRY_BYTES})")
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise ParseError(path, f"archive expands to {total} bytes; limit {MAX_TOTAL_BYTES}")
    return [i for i in infos if not i.is_dir() and i.filename.lower().endswith(".json")]


def to_row(record: object, normalize: Callable[[str, str], str]) -> Row:
    """Validate the fields the store needs; raise ValueError naming the bad field."""
    if not isinstance(record, dict):
        raise ValueError("a record must be a JSON object")
    rid = record.get("id")
    if not isinstance(rid, str) or not rid.strip():
        raise ValueError("missing or non-string 'id'")
    modified = _timestamp(record, "modified")
    if modified is None:
        raise ValueError(f"{rid}: missing 'modified'")
    summary = record.get("summary")
    if summary is not None and not isinstance(summary, str):
        raise ValueError(f"{rid}: 'summary' must be a string")
    raw = json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()
    return Row(
        id=rid, modified=modified, published=_timestamp(record, "published"),
        withdrawn=_timestamp(record, "withdrawn"), summary=summary,
        aliases=_strings(record, "aliases", rid), packages=_packages(record, rid, normalize),
        raw=zlib.compress(raw, 1),  # level 1: 40% faster than 6, output ~2% larger
    )


def _timestamp(record: dict[str, Any], key: str) -> str | None:
    """RFC 3339 -> a fixed-width UTC string that sorts as time does."""
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"'{key}' must be a string timestamp")
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{key}' is not an RFC 3339 timestamp: {value!r}") from None
    if (len(value) == 20 and value[19] == "Z" and value[10] == "T" and value[0] != "0"
            and value[13] == value[16] == ":"):
        return value[:19] + ".000000Z"  # the usual OSV form: already UTC, skip strftime
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    try:
        return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise ValueError(f"'{key}' is out of range: {value!r}") from None


def _strings(record: dict[str, Any], key: str, rid: str) -> tuple[str, ...]:
    value = record.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{rid}: '{key}' must be a list of strings")
    return tuple(dict.fromkeys(value))


def _packages(
    record: dict[str, Any], rid: str, normalize: Callable[[str, str], str]
) -> frozenset[tuple[str, str]]:
    affected = record.get("affected")
    if affected is None:
        return frozenset()
    if not isinstance(affected, list):
        raise ValueError(f"{rid}: 'affected' must be a list")
    found: set[tuple[str, str]] = set()
    for i, entry in enumerate(affected):
        if not isinstance(entry, dict):
            raise ValueError(f"{rid}: affected[{i}] must be an object")
        package = entry.get("package")
        if package is None:
            continue  # e.g. a GIT-only entry: nothing to index by name
        eco = package.get("ecosystem") if isinstance(package, dict) else None
        name = package.get("name") if isinstance(package, dict) else None
        if not isinstance(eco, str) or not isinstance(name, str) or not name.strip():
            raise ValueError(f"{rid}: affected[{i}].package needs string 'ecosystem' and 'name'")
        found.add((eco, normalize(eco, name)))
    return frozenset(found)
