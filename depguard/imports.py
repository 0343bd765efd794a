"""Import statements in Python and JavaScript/TypeScript source, and the ones a change adds.

Source is only read, never imported or run. Python is parsed with `ast` (falling back to
a line scan when the file does not parse); JavaScript and TypeScript go through a small
tokenizer that skips comments, strings, template literals and regular-expression literals,
so `require('x')` inside a string or a comment is not an import.
"""

from __future__ import annotations

import ast
import bisect
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

__all__ = [
    "ImportRef",
    "js_imports",
    "js_package",
    "new_js_imports",
    "new_python_imports",
    "python_imports",
    "source_language",
]

logger = logging.getLogger(__name__)

PYTHON = "python"
JAVASCRIPT = "javascript"

_PY_SUFFIXES = frozenset({".py", ".pyi"})
_JS_SUFFIXES = frozenset({".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".mts", ".cts"})


@dataclass(frozen=True, slots=True)
class ImportRef:
    """One import statement (or dynamic import call) found in a source file."""

    module: str
    """As written: "a.b" / "..m" (Python) or the specifier "lodash/fp", "node:fs" (JS)."""
    top: str
    """Python: the top-level name ("" for `from . import x`); JS: the package name."""
    file: str
    line: int
    language: str
    """The language: `python` or `javascript`."""
    relative: bool
    """A Python relative import, or a JS relative/absolute path, URL or `#internal` specifier."""
    names: tuple[str, ...] = ()
    """Python `from m import a, b`: ("a", "b"); lets `from google.cloud import storage` map."""
    form: str = "import"
    """The syntax: `import`, `from`, `dynamic` (import_module, __import__, import()),
    `require` (require and require.resolve) or `export` (export ... from)."""
    type_only: bool = False
    """TypeScript `import type` / `export type`, or a Python import under `if TYPE_CHECKING:`."""
    builtin_prefixed: bool = False
    """JS specifier written with the `node:` (or `bun:`) scheme: always a runtime built-in."""
    fallback: bool = False
    """Found by the line scan because the Python file did not parse."""


def source_language(path: str) -> str | None:
    """The language of a source file by its suffix (`.d.ts` files count: types only)."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in _PY_SUFFIXES:
        return PYTHON
    if suffix in _JS_SUFFIXES:
        return JAVASCRIPT
    return None


def _new(
    base: str | None, head: str, file: str, scan: Callable[[str, str], list[ImportRef]]
) -> list[ImportRef]:
    """Imports of `head` whose module `base` does not import; one per module, first wins."""
    known = {ref.module for ref in scan(base, file)} if base is not None else set()
    seen: set[str] = set()
    added: list[ImportRef] = []
    for ref in scan(head, file):
        if ref.module not in known and ref.module not in seen:
            seen.add(ref.module)
            added.append(ref)
    return added


# --------------------------------------------------------------------------- Python


def python_imports(text: str, file: str) -> list[ImportRef]:
    """Every import in a Python file, in source order (a line scan if it does not parse)."""
    if "import" not in text:  # import, from ... import, import_module, __import__
        return []
    try:
        refs = _PyScan(file).run(ast.parse(text, filename=file))
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        logger.warning("%s: not valid Python (%s); imports found by a line scan", file, exc)
        return _python_line_scan(text, file)
    return refs


def new_python_imports(base: str | None, head: str, file: str) -> list[ImportRef]:
    """Imports in `head` whose module `base` did not import (moved code is not new)."""
    return _new(base, head, file, python_imports)


def _py_ref(
    module: str,
    file: str,
    line: int,
    *,
    names: tuple[str, ...] = (),
    form: str = "import",
    type_only: bool = False,
    fallback: bool = False,
) -> ImportRef:
    return ImportRef(
        module=module,
        top=module.lstrip(".").split(".", 1)[0],
        file=file,
        line=line,
        language=PYTHON,
        relative=module.startswith("."),
        names=names,
        form=form,
        type_only=type_only,
        fallback=fallback,
    )


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


class _PyScan:
    """One `ast.walk` over the tree (a NodeVisitor is several times slower on big files)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.guarded: list[tuple[int, int]] = []  # line ranges of `if TYPE_CHECKING:` bodies
        self.importlib_names = {"importlib"}
        self.import_module_names = {"__import__"}

    def run(self, tree: ast.AST) -> list[ImportRef]:
        found: list[tuple[int, str, str, tuple[str, ...]]] = []
        calls: list[ast.Call] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(node.lineno, a.name, "import", ()) for a in node.names]
                self._note_aliases(node.names, "importlib", self.importlib_names)
            elif isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                found.append((node.lineno, module, "from", tuple(a.name for a in node.names)))
                if module == "importlib":
                    self._note_aliases(node.names, "import_module", self.import_module_names)
            elif isinstance(node, ast.Call):
                calls.append(node)
            elif isinstance(node, ast.If) and _is_type_checking(node.test) and node.body:
                self.guarded.append((node.body[0].lineno, node.body[-1].end_lineno or 0))
        found += [
            (call.lineno, name, "dynamic", ()) for call in calls if (name := self._dynamic(call))
        ]
        found.sort(key=lambda item: item[0])
        return [
            _py_ref(module, self.file, line, names=names, form=form, type_only=self._guarded(line))
            for line, module, form, names in found
        ]

    @staticmethod
    def _note_aliases(aliases: list[ast.alias], name: str, into: set[str]) -> None:
        into.update(a.asname or a.name for a in aliases if a.name == name)

    def _guarded(self, line: int) -> bool:
        return any(start <= line <= end for start, end in self.guarded)

    def _dynamic(self, call: ast.Call) -> str | None:
        """The module of `importlib.import_module("m")` / `__import__("m")`, if literal."""
        func = call.func
        dynamic = (isinstance(func, ast.Name) and func.id in self.import_module_names) or (
            isinstance(func, ast.Attribute)
            and func.attr == "import_module"
            and isinstance(func.value, ast.Name)
            and func.value.id in self.importlib_names
        )
        if not dynamic or not call.args:
            return None
        arg = call.args[0]
        return (
            arg.value
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value
            else None
        )


_PY_IMPORT_LINE = re.compile(r"[ \t]*import[ \t]+([\w.][\w. \t,]*)")
_PY_FROM_LINE = re.compile(
    r"[ \t]*from[ \t]+(\.+[\w.]*|[\w][\w.]*)[ \t]+import\b[ \t(]*([\w \t,*]*)"
)
_PY_DOTTED = re.compile(r"\.*[A-Za-z_]\w*(?:\.\w+)*|\.+")


def _python_line_scan(text: str, file: str) -> list[ImportRef]:
    """`import`/`from` lines of a file `ast` cannot read; triple-quoted blocks are skipped."""
    refs: list[ImportRef] = []
    quote: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if quote is None:
            refs.extend(_scan_line(line.split("#", 1)[0], file, number))
        quote = _triple_quote_state(line, quote)
    return refs


def _scan_line(line: str, file: str, number: int) -> Iterable[ImportRef]:
    if match := _PY_FROM_LINE.match(line):
        names = tuple(n.split()[0] for n in match.group(2).split(",") if n.split())
        yield _py_ref(match.group(1), file, number, names=names, form="from", fallback=True)
    elif match := _PY_IMPORT_LINE.match(line):
        for part in match.group(1).split(","):
            if name := _PY_DOTTED.match(part.strip()):
                yield _py_ref(name.group(0), file, number, fallback=True)


def _triple_quote_state(line: str, quote: str | None) -> str | None:
    for token in re.findall(r'"""|\'\'\'', line):
        if quote is None:
            quote = token
        elif token == quote:
            quote = None
    return quote


# --------------------------------------------------------------------------- JavaScript

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z)|<!--[^\n]*|^\#![^\n]*)
    |(?P<ident>[A-Za-z_$\u0080-\U0010ffff][\w$\u0080-\U0010ffff]*)
    |(?P<num>\d[\w.]*|\.\d\w*)
    |(?P<str>'(?:[^'\\\n]|\\.)*'?|"(?:[^"\\\n]|\\.)*"?)
    |(?P<tpl>`)
    |(?P<slash>/)
    |(?P<punct>\?\.|\.\.\.|.)""",
    re.VERBOSE | re.DOTALL,
)
_TEMPLATE_CHUNK = re.compile(r"(?:[^`\\$]|\\.|\$(?!\{))*", re.DOTALL)
_REGEX = re.compile(r"/(?:[^/\\\[\n]|\\.|\[(?:[^\]\\\n]|\\.)*\]?)*/?[A-Za-z]*")
_REGEX_AFTER_WORD = frozenset(
    {"return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case"}
    | {"do", "else", "yield", "await"}
)
_KEY_WORDS = frozenset({"import", "export", "require"})
_DECLARATION_FILE = re.compile(r"\.d\.[cm]?ts$", re.IGNORECASE)

Token = tuple[str, str, int]
"""(kind, value, offset): kinds "ident", "str" (value unquoted), "punct", "num", "re", "tpl"."""


def js_imports(text: str, file: str) -> list[ImportRef]:
    """Every import/export-from/require/import() with a literal specifier, in source order."""
    if not any(word in text for word in _KEY_WORDS):
        return []
    tokens = _tokenize(text)
    found = [hit for index in range(len(tokens)) if (hit := _match_at(tokens, index))]
    if not found:
        return []
    newlines = [m.start() for m in re.finditer("\n", text)]
    declarations = _DECLARATION_FILE.search(file) is not None  # .d.ts: types only
    refs: list[ImportRef] = []
    for spec, offset, form, type_only in found:
        line = bisect.bisect_left(newlines, offset) + 1
        if ref := _js_ref(spec, file, line, form, type_only or declarations):
            refs.append(ref)
    return refs


def new_js_imports(base: str | None, head: str, file: str) -> list[ImportRef]:
    """Imports in `head` whose specifier `base` did not import (moved code is not new)."""
    return _new(base, head, file, js_imports)


def _tokenize(text: str) -> list[Token]:
    return _Tokenizer(text).run()


class _Tokenizer:
    """Tokens with string values; comments, whitespace and regex bodies are dropped."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[Token] = []
        self.braces: list[bool] = []  # True: the `{` opened a template substitution `${`
        self.parens: list[bool] = []  # True: the `(` follows if/while/for/with
        self.regex_ok = True  # whether a `/` here starts a regular expression

    def run(self) -> list[Token]:
        pos, end = 0, len(self.text)
        while pos < end:
            match = _TOKEN.match(self.text, pos)
            assert match is not None  # the last alternative matches any character
            kind = match.lastgroup or "punct"
            if kind in ("ws", "comment"):
                pos = match.end()
                continue
            pos, kind, value = self._token(match, kind)
            self.tokens.append((kind, value, match.start()))
        return self.tokens

    def _token(self, match: re.Match[str], kind: str) -> tuple[int, str, str]:
        value, pos = match.group(), match.end()
        closes_control = False
        if kind == "slash":
            if self.regex_ok:
                literal = _REGEX.match(self.text, match.start())
                assert literal is not None  # the pattern matches at least the slash
                pos, kind = literal.end(), "re"
            else:
                kind = "punct"
        elif kind == "tpl" or (value == "}" and self.braces and self.braces[-1]):
            if kind != "tpl":
                self.braces.pop()
            pos, kind, value = _template(self.text, pos, self.braces, whole=kind == "tpl")
        elif kind == "str":
            value = value[1:-1] if len(value) > 1 and value[-1] == value[0] else "\x00"
        elif value in ("{", "}", "(", ")"):
            closes_control = self._bracket(value)
        self.regex_ok = closes_control or _regex_allowed((kind, value, 0))
        return pos, kind, value

    def _bracket(self, value: str) -> bool:
        """Track nesting; True for the `)` that closes `if (...)` and the like."""
        if value == "{":
            self.braces.append(False)
        elif value == "}":
            if self.braces:
                self.braces.pop()
        elif value == "(":
            previous = self.tokens[-1][1] if self.tokens else ""
            self.parens.append(previous in ("if", "while", "for", "with"))
        elif self.parens:
            return self.parens.pop()
        return False


def _template(text: str, pos: int, braces: list[bool], *, whole: bool) -> tuple[int, str, str]:
    """Scan template text from `pos`; a substitution-free template becomes a "str" token."""
    chunk = _TEMPLATE_CHUNK.match(text, pos)
    assert chunk is not None  # the pattern can match the empty string
    pos = chunk.end()
    if text.startswith("${", pos):
        braces.append(True)
        return pos + 2, "tpl", ""
    kind = "str" if whole else "tpl"
    return pos + 1, kind, chunk.group() if whole and "\\" not in chunk.group() else ""


def _regex_allowed(previous: Token) -> bool:
    kind, value, _ = previous
    if kind == "punct":
        return value not in (")", "]")
    if kind == "ident":
        return value in _REGEX_AFTER_WORD
    return False


Hit = tuple[str, int, str, bool]
"""(specifier, offset of the keyword, form, type_only)."""


def _match_at(tokens: list[Token], i: int) -> Hit | None:
    kind, value, offset = tokens[i]
    if kind != "ident" or value not in _KEY_WORDS:
        return None
    if i > 0 and tokens[i - 1][1] in (".", "?.") and tokens[i - 1][0] == "punct":
        return None  # obj.require(...), obj.import(...)
    if value == "require":
        return _match_require(tokens, i + 1, offset)
    if value == "import":
        return _match_import(tokens, i + 1, offset)
    return _match_export(tokens, i + 1, offset)


def _tok(tokens: list[Token], i: int) -> tuple[str, str]:
    return (tokens[i][0], tokens[i][1]) if i < len(tokens) else ("eof", "")


def _call_arg(tokens: list[Token], i: int) -> str | None:
    """The literal argument of a call whose `(` is at `i`: `( "x" )` or `( "x" , ...`."""
    if (
        _tok(tokens, i) == ("punct", "(")
        and _tok(tokens, i + 1)[0] == "str"
        and _tok(tokens, i + 2) in (("punct", ")"), ("punct", ","))
    ):
        return tokens[i + 1][1]
    return None


def _match_require(tokens: list[Token], i: int, offset: int) -> Hit | None:
    if _tok(tokens, i) == ("punct", ".") and _tok(tokens, i + 1) == ("ident", "resolve"):
        i += 2
    spec = _call_arg(tokens, i)
    return (spec, offset, "require", False) if spec is not None else None


def _match_import(tokens: list[Token], i: int, offset: int) -> Hit | None:
    kind, value = _tok(tokens, i)
    if (kind, value) == ("punct", "("):
        spec = _call_arg(tokens, i)
        return (spec, offset, "dynamic", False) if spec is not None else None
    if kind == "str":
        return (value, offset, "import", False)
    type_only = (kind, value) == ("ident", "type") and _starts_clause(tokens, i + 1)
    i += type_only
    kind, value = _tok(tokens, i)
    if kind == "ident" and not (value == "from" and _tok(tokens, i + 1)[0] == "str"):
        i += 1  # a default binding (possibly one named `from`: `import from from "x"`)
        if _tok(tokens, i) == ("punct", ","):
            i += 1
    return _from_clause(tokens, i, offset, "import", type_only)


def _starts_clause(tokens: list[Token], i: int) -> bool:
    kind, value = _tok(tokens, i)
    if value in ("{", "*") and kind == "punct":
        return True
    return kind == "ident" and (value != "from" or _tok(tokens, i + 1) == ("ident", "from"))


def _match_export(tokens: list[Token], i: int, offset: int) -> Hit | None:
    type_only = _tok(tokens, i) == ("ident", "type") and _tok(tokens, i + 1)[1] in ("{", "*")
    i += type_only
    if _tok(tokens, i)[1] not in ("{", "*") or _tok(tokens, i)[0] != "punct":
        return None
    return _from_clause(tokens, i, offset, "export", type_only)


def _from_clause(
    tokens: list[Token], i: int, offset: int, form: str, type_only: bool
) -> Hit | None:
    """`{ a, b as c }` or `* as n` (or nothing), then `from "spec"`."""
    if _tok(tokens, i) == ("punct", "{"):
        i += 1
        while _tok(tokens, i)[0] in ("ident", "str") or _tok(tokens, i) == ("punct", ","):
            i += 1
        if _tok(tokens, i) != ("punct", "}"):
            return None
        i += 1
    elif _tok(tokens, i) == ("punct", "*"):
        i += 1
        if _tok(tokens, i) == ("ident", "as"):
            i += 2
    if _tok(tokens, i) == ("ident", "from") and _tok(tokens, i + 1)[0] == "str":
        return (tokens[i + 1][1], offset, form, type_only)
    return None


_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def js_package(spec: str) -> tuple[str, bool, bool] | None:
    """(package name, relative, builtin_prefixed) for a specifier; None when it is unusable.

    `lodash/fp` -> lodash, `@scope/pkg/sub` -> @scope/pkg, `node:fs/promises` -> fs;
    `./x`, `../x`, `/abs`, `#internal`, URLs and other schemes are relative (not packages);
    `npm:pkg@1` (Deno) -> pkg.
    """
    spec = spec.strip().rsplit("!", 1)[-1].split("?", 1)[0]  # webpack loaders, queries
    if not spec or "\x00" in spec:
        return None
    if spec.startswith((".", "/", "#")):
        return spec, True, False
    scheme = _SCHEME.match(spec)
    if scheme:
        rest = spec[scheme.end() :]
        if scheme.group() in ("node:", "bun:"):
            return rest.split("/", 1)[0], False, True
        if scheme.group() != "npm:" or not rest.lstrip("/"):
            return spec, True, False
        rest = rest.lstrip("/")
        spec = rest[0] + rest[1:].split("@", 1)[0]  # npm:pkg@1.2/sub, npm:@scope/pkg@1
    parts = spec.split("/")
    top = "/".join(parts[:2]) if spec.startswith("@") and len(parts) > 1 else parts[0]
    return (top, False, False) if top else None


def _js_ref(spec: str, file: str, line: int, form: str, type_only: bool) -> ImportRef | None:
    package = js_package(spec)
    if package is None:
        return None
    top, relative, prefixed = package
    return ImportRef(
        module=spec,
        top=top,
        file=file,
        line=line,
        language=JAVASCRIPT,
        relative=relative,
        form=form,
        type_only=type_only,
        builtin_prefixed=prefixed,
    )
