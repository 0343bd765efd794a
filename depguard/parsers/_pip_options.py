"""pip's option syntax for requirements-file lines, and a linear-time shell-word splitter.

A logical line is split as pip splits it: the tokens before the first `-token` are the
requirement, the rest are options parsed like pip's optparse set-up (unique long-option
prefixes, `-rFILE`, `--opt=value`), shell-quoted words split without `shlex` (quadratic).
"""

from __future__ import annotations

import re

from depguard.errors import ParseError

_OPTION_START = re.compile(r"(?:^| )-")
_SHELL_SPECIAL = re.compile(r"[\"'\\]")
_SHELL_TOKEN = re.compile(r"""(?P<space>\s+)|'(?P<single>[^']*)'
    |"(?P<double>[^"\\]*(?:\\.[^"\\]*)*)"|\\(?P<escaped>.)
    |(?P<plain>[^\s'"\\]+)|(?P<bad>['"\\])""", re.VERBOSE | re.DOTALL)
_DOUBLE_ESCAPE = re.compile(r'\\(["\\])')


# pip's requirements-file options: long name -> what is collected (None: a flag).
_LONG_OPTIONS: dict[str, str | None] = {
    "requirement": "r", "constraint": "c", "editable": "e", "index-url": "i",
    "pypi-url": "i", "extra-index-url": "extra-index-url", "find-links": "f",
    "no-binary": "no-binary", "only-binary": "only-binary", "all-releases": "all-releases",
    "only-final": "only-final", "trusted-host": "trusted-host", "use-feature": "use-feature",
    "hash": "hash", "config-settings": "C", "global-option": "global-option",
    "install-option": "install-option", "no-index": None, "prefer-binary": None,
    "require-hashes": None, "no-require-hashes": None, "pre": None,
}
_SHORT_OPTIONS = frozenset("rceifC")


def _split_options(source: str, number: int, line: str) -> tuple[str, dict[str, list[str]]]:
    """pip's split: the space-separated tokens before the first `-token` are the requirement."""
    match = _OPTION_START.search(line)
    cut = match.start() if match else len(line)
    options = line[cut:]
    try:
        words = _shell_words(options) if _SHELL_SPECIAL.search(options) else options.split()
        values = _parse_options(words)
    except ValueError as exc:
        raise ParseError(source, f"invalid option: {_first_line(exc)}", number) from exc
    return line[:cut].strip(), values


def _parse_options(words: list[str]) -> dict[str, list[str]]:
    """Like pip's optparse set-up (unique long-option prefixes, `-rFILE`, `--opt=value`)."""
    values: dict[str, list[str]] = {}
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word.startswith("--") and len(word) > 2:
            name, sep, value = word[2:].partition("=")
            key, has_value = _long_option(name), bool(sep)
            if key is None:
                if has_value:
                    raise ValueError(f"--{_cut(name)} option does not take a value")
                values.setdefault(name, [])
                continue
        elif word.startswith("-") and len(word) > 1 and word[1] in _SHORT_OPTIONS:
            key, has_value, value = word[1], len(word) > 2, word[2:]
        elif word.startswith("-") and len(word) > 1:
            raise ValueError(f"no such option: {word[:2]}")
        else:
            raise ValueError(f"unexpected argument after options: {_clip(word)}")
        if not has_value:
            if index == len(words):
                raise ValueError(f"{_cut(word)} option requires 1 argument")
            value, index = words[index], index + 1
        values.setdefault(key, []).append(value)
    return values


def _long_option(name: str) -> str | None:
    if name in _LONG_OPTIONS:
        return _LONG_OPTIONS[name]
    matches = [option for option in _LONG_OPTIONS if option.startswith(name)]
    if len(matches) != 1:
        problem = "ambiguous option" if matches else "no such option"
        raise ValueError(f"{problem}: --{_cut(name)}")
    return _LONG_OPTIONS[matches[0]]


def _shell_words(text: str) -> list[str]:
    """POSIX shell words as `shlex.split` makes them, in linear time (shlex is quadratic)."""
    words: list[str] = []
    current: list[str] | None = None
    for match in _SHELL_TOKEN.finditer(text):
        kind, value = match.lastgroup, match.group(match.lastgroup or 0)
        if kind == "space":
            if current is not None:
                words.append("".join(current))
            current = None
            continue
        if kind == "bad":
            raise ValueError("No closing quotation" if value != "\\" else "No escaped character")
        if kind == "double":
            value = _DOUBLE_ESCAPE.sub(r"\1", value)
        current = [] if current is None else current
        current.append(value)
    if current is not None:
        words.append("".join(current))
    return words


def _cut(text: str, limit: int = 120) -> str:
    """An excerpt for error messages (lines may be megabytes long)."""
    return text if len(text) <= limit else text[:limit] + "..."


def _clip(text: str) -> str:
    return repr(_cut(text))


def _first_line(exc: Exception) -> str:
    return str(exc).strip().partition("\n")[0]
