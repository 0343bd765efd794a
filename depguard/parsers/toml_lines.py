"""Line numbers for TOML text: where each key, table and array item of tomllib's data starts.

Shared by the pyproject.toml parser and the policy loader so their errors can name a line.
"""

from __future__ import annotations

import bisect
import contextlib
import re
import tomllib

__all__ = ["KeyPath", "TomlLines"]

KeyPath = tuple[str | int, ...]


class TomlLines:
    """Line numbers of keys, tables and array items in TOML text that tomllib already accepted.

    ``line(("project", "optional-dependencies", "dev", 2))`` is the line of that array item; a
    path that was not recorded falls back to its longest recorded prefix. Paths follow tomllib's
    data (dotted keys, inline tables, arrays of tables by index).
    """

    _BARE = re.compile(r"[A-Za-z0-9_-]+")
    _SCALAR = re.compile(r"[^,\]}\n#]*")

    def __init__(self, text: str) -> None:
        self._text = text
        self._offsets: dict[KeyPath, int] = {}
        self._newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        # Defensive: keep what was found; lines degrade to a prefix or None, never a crash.
        with contextlib.suppress(ValueError, IndexError, RecursionError):
            self._scan()

    def line(self, path: KeyPath) -> int | None:
        while path:
            offset = self._offsets.get(path)
            if offset is not None:
                return bisect.bisect_left(self._newlines, offset) + 1
            path = path[:-1]
        return None

    def _mark(self, base: KeyPath, keys: KeyPath, offset: int) -> None:
        for n in range(1, len(keys) + 1):
            self._offsets.setdefault(base + keys[:n], offset)

    def _scan(self) -> None:
        text, i = self._text, 0
        table: KeyPath = ()
        arrays: dict[KeyPath, int] = {}
        while (i := self._skip(i, True)) < len(text):
            start = i
            if text.startswith("[[", i):
                keys, i = self._key(i + 2)
                arrays[keys] = arrays.get(keys, -1) + 1
                table = (*keys, arrays[keys])
                self._mark((), table, start)
                i = text.index("]]", i) + 2
            elif text[i] == "[":
                keys, i = self._key(i + 1)
                table = keys
                self._mark((), table, start)
                i = text.index("]", i) + 1
            else:
                i = self._pair(i, table)

    def _pair(self, i: int, base: KeyPath) -> int:
        start = i
        keys, i = self._key(i)
        self._mark(base, keys, start)
        i = self._skip(i, False)  # now at "="
        return self._value(self._skip(i + 1, False), base + keys)

    def _value(self, i: int, path: KeyPath) -> int:
        text = self._text
        if text[i] in "[{":
            close, index = ("]" if text[i] == "[" else "}"), 0
            i += 1
            while (i := self._skip(i, True)) < len(text) and text[i] != close:
                if close == "]":
                    self._offsets.setdefault((*path, index), i)
                    i = self._value(i, (*path, index))
                    index += 1
                else:
                    i = self._pair(i, path)
                i = self._skip(i, True)
                i += text[i] == ","
            return i + 1
        if text[i] in "\"'":
            return self._string_end(i)
        match = self._SCALAR.match(text, i)
        return max(match.end() if match else i, i + 1)

    def _skip(self, i: int, newlines: bool) -> int:
        text = self._text
        while i < len(text):
            ch = text[i]
            if ch == "#":
                end = text.find("\n", i)
                i = len(text) if end < 0 else end
            elif ch in " \t\r" or (newlines and ch == "\n"):
                i += 1
            else:
                break
        return i

    def _key(self, i: int) -> tuple[tuple[str, ...], int]:
        keys: list[str] = []
        while True:
            i = self._skip(i, False)
            if self._text[i] in "\"'":
                end = self._string_end(i)
                keys.append(str(tomllib.loads("k = " + self._text[i:end])["k"]))
                i = end
            else:
                match = self._BARE.match(self._text, i)
                if match is None:
                    raise ValueError("not a key")
                keys.append(match.group())
                i = match.end()
            i = self._skip(i, False)
            if self._text[i] != ".":
                return tuple(keys), i
            i += 1

    def _string_end(self, i: int) -> int:
        text = self._text
        quote = text[i]
        if text.startswith(quote * 3, i):
            j = i + 3
            while True:
                k = text.index(quote * 3, j)
                if quote == '"' and _escaped(text, k):
                    j = k + 1
                    continue
                extra = 0
                while extra < 2 and text.startswith(quote, k + 3 + extra):
                    extra += 1
                return k + 3 + extra
        j = i + 1
        while text[j] != quote:
            j += 2 if quote == '"' and text[j] == "\\" else 1
        return j + 1


def _escaped(text: str, index: int) -> bool:
    count = 0
    while index - count - 1 >= 0 and text[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1
