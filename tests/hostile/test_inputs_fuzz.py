"""Property: diffs, OSV records, policy files and source files never crash depguard.

Each reader gets raw text and structured input (a grammar of the format's own lines, or
real records/policies with hostile values planted anywhere). The result is a value or a
DepguardError; the OSV store's row builder may also reject a record with ValueError,
which `db import` counts as malformed.
"""

from __future__ import annotations

import json
import tomllib
from functools import cache, partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depguard.advisories._db_input import Row, to_row
from depguard.advisories.db import normalize_name
from depguard.advisories.match import evaluate, fixed_versions, smallest_clearing_version
from depguard.advisories.osv_record import Advisory, parse_advisory
from depguard.errors import DepguardError
from depguard.imports import js_imports, new_js_imports, new_python_imports, python_imports
from depguard.models import Ecosystem
from depguard.policy import load_policy
from depguard.unidiff import apply_diff, parse_diff
from tests.conftest import FIXTURES, fixture_path
from tests.hostile._support import (
    MemReader,
    all_paths,
    apply_mutations,
    expect_parse_or_error,
    hostile_values,
    mutations,
    toml_dumps,
)

# ------------------------------------------------------------------ unified diffs

BASE_TREE = {
    "requirements.txt": "requests==2.31.0\nsix\n",
    "package.json": '{\n  "dependencies": {}\n}\n',
    "a/b.py": "import os\r\nimport sys\r\n",
    "x y.txt": "1\n",
}
_NAMES = ["requirements.txt", "package.json", "a/b.py", "x y.txt", "new.txt", "../x",
          "/etc/passwd", "a/../../x", "", ".", "a//b.py", '"a\\303\\251"', '"a\\q"', '"',
          "dev/null", "a/b/c/d/e"]
_LINES = ["", "requests==2.31.0", "six", "import os", "import litellm", "{", "}", "é",
          "  \"axios\": \"1.14.1\"", "\r", "x" * 200]


def _diff_line() -> st.SearchStrategy[str]:
    name = st.sampled_from(_NAMES)
    num = st.integers(0, 5) | st.sampled_from([10**20, 99999])
    return st.one_of(
        st.builds(lambda a, b: f"diff --git a/{a} b/{b}", name, name),
        st.builds(lambda a: f"--- a/{a}", name), st.builds(lambda a: f"+++ b/{a}", name),
        st.builds(lambda a: f"--- {a}\t1970-01-01 00:00:00", name),
        st.builds(lambda a: f'+++ "{a}"', name),
        st.sampled_from(["--- /dev/null", "+++ /dev/null", "new file mode 100644",
                         "deleted file mode 100644", "old mode 100755", "new mode 120000",
                         "new mode 160000", "index 0000000..1111111 100644", "similarity index 90%",
                         "dissimilarity index 10%", "GIT binary patch", "literal 0",
                         "\\ No newline at end of file", "Only in a: b", "---", "+++", "@@",
                         "@@ -1 +1 @@", "@@ -0,0 +1 @@", "@@ -x,y +z @@", "diff --git",
                         "diff --git a/x", "Binary files a/x and b/x differ",
                         "Binary files /dev/null and b/y differ"]),
        st.builds(lambda a: f"rename from {a}", name), st.builds(lambda a: f"rename to {a}", name),
        st.builds(lambda a: f"copy from {a}", name), st.builds(lambda a: f"copy to {a}", name),
        st.builds(lambda a, b, c, d: f"@@ -{a},{b} +{c},{d} @@ ctx", num, num, num, num),
        st.builds(lambda m, t: m + t, st.sampled_from([" ", "+", "-"]), st.sampled_from(_LINES)),
        st.text(max_size=10),
    )


@given(lines=st.lists(_diff_line(), max_size=25), eol=st.sampled_from(["\n", "\r\n"]))
def test_generated_diff(lines: list[str], eol: str) -> None:
    text = eol.join(lines) + eol
    _parse_and_apply(text)


@given(text=st.text(max_size=500))
def test_any_text_as_diff(text: str) -> None:
    _parse_and_apply(text)


@cache
def _real_diffs() -> list[str]:
    folder = fixture_path("diffs")
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.diff"))]


@given(data=st.data())
def test_damaged_real_diff(data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(_real_diffs()))
    lines = text.splitlines(keepends=True)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(lines)))
        action = data.draw(st.sampled_from(["drop", "dup", "insert"]))
        if action == "drop" and at < len(lines):
            del lines[at]
        elif action == "dup" and at < len(lines):
            lines.insert(at, lines[at])
        else:
            lines.insert(at, data.draw(_diff_line()) + "\n")
    _parse_and_apply("".join(lines))


def _parse_and_apply(text: str) -> None:
    def run() -> object:
        patches = parse_diff(text, "change.diff")
        return apply_diff(patches, BASE_TREE.get, BASE_TREE.__contains__, "change.diff")

    result = expect_parse_or_error(run)
    if isinstance(result, DepguardError):
        assert str(result).startswith("change.diff"), str(result)
        return
    for path in result.files:  # type: ignore[attr-defined]
        assert not path.startswith(("/", "../")), f"diff escaped the tree: {path}"


# ------------------------------------------------------------------ OSV records


@cache
def _records() -> list[tuple[str, Any, list[tuple[Any, ...]]]]:
    out = []
    for path in sorted((FIXTURES / "osv" / "records").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        out.append((path.name, doc, all_paths(doc)))
    return out


def _check_record(doc: Any) -> None:
    advisory = expect_parse_or_error(lambda: parse_advisory(doc, "record.json"))
    if isinstance(advisory, Advisory):
        _match_everything(advisory)
    try:
        row = to_row(doc, normalize_name)
    except ValueError as exc:
        assert str(exc)
    else:
        assert isinstance(row, Row)


def _match_everything(advisory: Advisory) -> None:
    """Matching a parsed advisory never crashes either, whatever its ranges say."""
    for entry in advisory.affected:
        for eco in (Ecosystem.PYPI, Ecosystem.NPM):
            name = entry.name if isinstance(entry.name, str) else "x"
            for version in ("1.0.0", "0", "1.82.7", "not-a-version", ""):
                expect_parse_or_error(partial(evaluate, advisory, eco, name, version))
                expect_parse_or_error(
                    partial(smallest_clearing_version, eco, name, version, [advisory])
                )
            expect_parse_or_error(partial(fixed_versions, advisory, eco, name))


@given(data=st.data())
def test_mutated_osv_record(data: st.DataObject) -> None:
    _, doc, paths = data.draw(st.sampled_from(_records()), label="record")
    muts = data.draw(mutations(len(paths)), label="mutations")
    _check_record(apply_mutations(doc, paths, muts))


@given(doc=hostile_values())
def test_any_json_as_osv_record(doc: Any) -> None:
    _check_record(doc)


_EVENTS = st.dictionaries(
    st.sampled_from(["introduced", "fixed", "last_affected", "limit", "x"]),
    st.sampled_from(["0", "1.0.0", "1.82.7", "2.0.0-rc.1", "*", "", "1!2", "v1", "a", "1.0.0+x"])
    | hostile_values(),
    max_size=2,
)


@given(
    eco=st.sampled_from(["PyPI", "npm", "pypi", "", "Go", "crates.io"]) | hostile_values(),
    kind=st.sampled_from(["ECOSYSTEM", "SEMVER", "GIT", "OTHER"]) | hostile_values(),
    events=st.lists(_EVENTS, max_size=4),
    versions=st.lists(st.sampled_from(["1.0.0", "1.82.7", "x", ""]) | hostile_values(),
                      max_size=3),
)
def test_generated_osv_ranges(eco: Any, kind: Any, events: list[Any], versions: list[Any]) -> None:
    doc = {
        "id": "GHSA-test", "modified": "2026-03-24T00:00:00Z",
        "affected": [{"package": {"ecosystem": eco, "name": "litellm"},
                      "ranges": [{"type": kind, "events": events}], "versions": versions}],
    }
    _check_record(doc)


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
                                   "2026-13-01T00:00:00Z", "", "T", "2026-03-24"])
def test_odd_timestamps(stamp: str) -> None:
    _check_record({"id": "X-1", "modified": stamp, "published": stamp, "withdrawn": stamp})


# ------------------------------------------------------------------ policy files


@cache
def _policies() -> list[tuple[str, Any, list[tuple[Any, ...]]]]:
    out = []
    for name in ("full.toml", "pyproject-full.toml", "inline-entries.toml"):
        doc = tomllib.loads(fixture_path("policy", name).read_text(encoding="utf-8"))
        target = "pyproject.toml" if name.startswith("pyproject") else ".depguard.toml"
        out.append((target, doc, all_paths(doc)))
    return out


def _load_policy(name: str, text: str) -> None:
    root = Path("/project")
    reader = MemReader({root / name: text.encode("utf-8", "surrogatepass")})
    expect_parse_or_error(lambda: load_policy(root, None, reader))
    expect_parse_or_error(lambda: load_policy(root, root / name, reader))


@given(data=st.data())
def test_mutated_policy(data: st.DataObject) -> None:
    name, doc, paths = data.draw(st.sampled_from(_policies()), label="policy")
    muts = data.draw(mutations(len(paths), toml=True), label="mutations")
    _load_policy(name, toml_dumps(apply_mutations(doc, paths, muts)))


@given(name=st.sampled_from([".depguard.toml", "pyproject.toml"]), text=st.text(max_size=300))
def test_any_text_as_policy(name: str, text: str) -> None:
    _load_policy(name, text)


# ------------------------------------------------------------------ import extractors

_PY_TOKENS = ["import", "from", "as", "os", "a.b", ".", "..", "(", ")", ",", "*", "\n", "    ",
              "if TYPE_CHECKING:", "try:", "except ImportError:", "importlib.import_module(",
              "__import__(", "'x'", '"""', "'''", "#", "\\", ";", "def f():", "pass", "é"]
_JS_TOKENS = ["import", "export", "from", "require(", "require.resolve(", "import(", "type",
              "'lodash'", '"@scope/pkg/sub"', "`", "${", "}", "{", "(", ")", ";", "\n", "/",
              "/*", "*/", "//", "'", '"', "node:fs", "* as x", ",", "=", "x", "return", "/re/g",
              "\\", "'./rel'", "'https://e.com/m.js'", "'#internal'", "'npm:x'"]


def _source(tokens: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(tokens) | st.text(max_size=3), max_size=40).map(" ".join)


@given(text=_source(_PY_TOKENS) | st.text(max_size=300), base=st.none() | _source(_PY_TOKENS))
def test_python_imports(text: str, base: str | None) -> None:
    for ref in python_imports(text, "m.py"):
        assert ref.line >= 1
    new_python_imports(base, text, "m.py")


@given(text=_source(_JS_TOKENS) | st.text(max_size=300), base=st.none() | _source(_JS_TOKENS))
def test_js_imports(text: str, base: str | None) -> None:
    for ref in js_imports(text, "m.ts"):
        assert ref.line >= 1
    new_js_imports(base, text, "m.ts")


@pytest.mark.parametrize(
    "text",
    [
        "import os\n" + "(" * 5000 + ")" * 5000,
        "import os\nx = " + "-" * 200_000 + "1\n",
        "import os\nx = " + "[" * 100_000,
        "import os\n" + "if x:\n" * 200 + "    import y\n",
        "import os\n" + "a + " * 100_000 + "1\n",
        "from" + " " * 1_000_000 + "x import y",
    ],
    ids=["deep-parens", "unary-chain", "unclosed-brackets", "deep-blocks", "long-expr", "spaces"],
)
def test_python_pathological_sources(text: str) -> None:
    assert [r.top for r in python_imports(text, "m.py")][:1] in (["os"], [], ["x"])


@pytest.mark.parametrize(
    "text",
    [
        "import 'a';\n" + "{" * 100_000,
        "import 'a';\n" + "`${" * 50_000,
        "import 'a';\n" + "(" * 100_000 + "require('b')",
        "import 'a';\n" + "/" * 100_000,
        "import 'a';\n" + "'" + "\\" * 100_001,
        "import 'a';\n" + "/*" * 100_000,
    ],
    ids=["braces", "templates", "parens", "slashes", "backslashes", "comments"],
)
def test_js_pathological_sources(text: str) -> None:
    assert [r.top for r in js_imports(text, "m.js")][:1] == ["a"]
