"""Import extraction from Python and JavaScript/TypeScript source."""

from __future__ import annotations

import logging
import textwrap
import time

import pytest

from depguard.imports import (
    ImportRef,
    js_imports,
    js_package,
    new_js_imports,
    new_python_imports,
    python_imports,
    source_language,
)


def _py(source: str) -> list[ImportRef]:
    return python_imports(textwrap.dedent(source), "pkg/mod.py")


def _js(source: str, file: str = "src/app.ts") -> list[ImportRef]:
    return js_imports(textwrap.dedent(source), file)


def _summary(refs: list[ImportRef]) -> list[tuple[str, str, int, bool]]:
    return [(r.module, r.top, r.line, r.relative) for r in refs]


# --------------------------------------------------------------------------- Python

PYTHON_FORMS = [
    ("import a.b\n", [("a.b", "a", 1, False)]),
    ("import a as x, c.d as y\n", [("a", "a", 1, False), ("c.d", "c", 1, False)]),
    ("from a import b\n", [("a", "a", 1, False)]),
    ("\nfrom a.b import (c,\n    d)\n", [("a.b", "a", 2, False)]),
    ("from . import x\n", [(".", "", 1, True)]),
    ("from .m import y\n", [(".m", "m", 1, True)]),
    ("from ..pkg.m import y\n", [("..pkg.m", "pkg", 1, True)]),
    ("import importlib\nimportlib.import_module('a.b')\n",
     [("importlib", "importlib", 1, False), ("a.b", "a", 2, False)]),
    ("from importlib import import_module\nimport_module('x')\n",
     [("importlib", "importlib", 1, False), ("x", "x", 2, False)]),
    ("import importlib as il\nil.import_module('.sub', 'pkg')\n",
     [("importlib", "importlib", 1, False), (".sub", "sub", 2, True)]),
    ("__import__('a.b')\n", [("a.b", "a", 1, False)]),
    ("def f():\n    import inner\n", [("inner", "inner", 2, False)]),
    ("try:\n    import ujson as json\nexcept ImportError:\n    import json\n",
     [("ujson", "ujson", 2, False), ("json", "json", 4, False)]),
    ("class C:\n    def m(self):\n        from x.y import z\n", [("x.y", "x", 3, False)]),
]  # fmt: skip


@pytest.mark.parametrize(("source", "expected"), PYTHON_FORMS)
def test_python_import_forms(source: str, expected: list[tuple[str, str, int, bool]]) -> None:
    refs = python_imports(source, "pkg/mod.py")
    assert _summary(refs) == expected
    assert all(r.file == "pkg/mod.py" and r.language == "python" and not r.fallback for r in refs)


def test_python_from_import_records_names_and_form() -> None:
    (ref,) = _py("from google.cloud import storage, bigquery as bq\n")
    assert ref.names == ("storage", "bigquery")
    assert ref.form == "from"


@pytest.mark.parametrize(
    "source",
    [
        "importlib.import_module(name)\n",
        "__import__(f'x{y}')\n",
        "import_module('x')\n",  # not bound to importlib.import_module
        "other.import_module('x')\n",
        "x = 'import os'\n",
        "# import os\n",
        '"""\nimport os\n"""\n',
    ],
)
def test_python_non_imports_are_ignored(source: str) -> None:
    assert python_imports(source, "m.py") == []


def test_python_type_checking_imports_are_marked() -> None:
    refs = _py(
        """\
        import typing
        if typing.TYPE_CHECKING:
            from a import A
        else:
            import b
        if TYPE_CHECKING:
            import c
        """
    )
    assert [(r.module, r.type_only) for r in refs] == [
        ("typing", False),
        ("a", True),
        ("b", False),
        ("c", True),
    ]


def test_python_syntax_error_falls_back_to_line_scan(caplog: pytest.LogCaptureFixture) -> None:
    source = textwrap.dedent(
        """\
        import os, sys as system
        print "python 2"
        \"\"\"
        import not_an_import
        \"\"\"
        from . import sibling
        from a.b import (c,
            d)  # trailing
        x = 1  # import nothing
        import yaml  # comment
        """
    )
    with caplog.at_level(logging.WARNING, logger="depguard.imports"):
        refs = python_imports(source, "old/py2.py")
    assert _summary(refs) == [
        ("os", "os", 1, False),
        ("sys", "sys", 1, False),
        (".", "", 6, True),
        ("a.b", "a", 7, False),
        ("yaml", "yaml", 10, False),
    ]
    assert all(r.fallback for r in refs)
    assert "old/py2.py: not valid Python" in caplog.text


def test_python_half_written_file_does_not_crash() -> None:
    refs = python_imports("import requests\ndef broken(:\n", "m.py")
    assert [(r.module, r.fallback) for r in refs] == [("requests", True)]


def test_python_null_byte_is_handled() -> None:
    refs = python_imports("import os\n\x00\n", "m.py")
    assert [r.module for r in refs] == ["os"]


def test_new_python_imports_ignores_moved_code() -> None:
    base = "import os\nimport yaml\n\ndef f():\n    import requests\n"
    head = (
        "import requests\nimport os\n\ndef f():\n    import yaml\n"
        "    import httpx\n    import httpx\n"
    )
    added = new_python_imports(base, head, "m.py")
    assert _summary(added) == [("httpx", "httpx", 6, False)]


def test_new_python_imports_without_base_returns_all_once() -> None:
    added = new_python_imports(None, "import a\nimport a\nfrom b import c\n", "m.py")
    assert [(r.module, r.line) for r in added] == [("a", 1), ("b", 3)]


def test_new_python_imports_with_unparsable_base() -> None:
    added = new_python_imports("print 'x'\nimport a\n", "import a\nimport b\n", "m.py")
    assert [r.module for r in added] == ["b"]


def test_python_large_file_is_fast() -> None:
    source = "".join(f"import mod{i}\nx{i} = [{i}] * 3\n" for i in range(20000))
    start = time.perf_counter()
    refs = python_imports(source, "big.py")
    assert len(refs) == 20000
    assert time.perf_counter() - start < 10


# --------------------------------------------------------------------------- JavaScript

JS_SOURCE = """\
#!/usr/bin/env node
import def from 'default-pkg';
import {a,
  b as c} from "named-pkg/sub";
import * as ns from '@scope/pkg/deep/path';
import 'side-effect';
import type {T} from 'type-pkg';
import type from 'binding-named-type';
import def2, {x} from 'mixed';
import def3, * as all from 'mixed-ns';
export {e} from 'reexport';
export * from 'star';
export * as sns from "star-ns";
export type { U } from 'type-export';
const r = require('cjs');
const resolved = require.resolve('resolved-pkg');
const lazy = await import('dynamic-pkg');
import fs from 'node:fs/promises';
import local from '../local';
import x = require('ts-import-equals');
"""

JS_EXPECTED = [
    ("default-pkg", "default-pkg", 2, "import", False),
    ("named-pkg/sub", "named-pkg", 3, "import", False),
    ("@scope/pkg/deep/path", "@scope/pkg", 5, "import", False),
    ("side-effect", "side-effect", 6, "import", False),
    ("type-pkg", "type-pkg", 7, "import", True),
    ("binding-named-type", "binding-named-type", 8, "import", False),
    ("mixed", "mixed", 9, "import", False),
    ("mixed-ns", "mixed-ns", 10, "import", False),
    ("reexport", "reexport", 11, "export", False),
    ("star", "star", 12, "export", False),
    ("star-ns", "star-ns", 13, "export", False),
    ("type-export", "type-export", 14, "export", True),
    ("cjs", "cjs", 15, "require", False),
    ("resolved-pkg", "resolved-pkg", 16, "require", False),
    ("dynamic-pkg", "dynamic-pkg", 17, "dynamic", False),
    ("node:fs/promises", "fs", 18, "import", False),
    ("../local", "../local", 19, "import", False),
    ("ts-import-equals", "ts-import-equals", 20, "require", False),
]


def test_js_import_forms_with_lines() -> None:
    refs = js_imports(JS_SOURCE, "src/index.ts")
    assert [(r.module, r.top, r.line, r.form, r.type_only) for r in refs] == JS_EXPECTED
    assert all(r.file == "src/index.ts" and r.language == "javascript" for r in refs)
    by_module = {r.module: r for r in refs}
    assert by_module["node:fs/promises"].builtin_prefixed
    assert by_module["../local"].relative
    assert not by_module["cjs"].relative


@pytest.mark.parametrize(
    "source",
    [
        "// import a from 'line-comment'\n",
        "/* require('block-comment') */\n",
        "/**\n * import x from 'jsdoc';\n */\n",
        "const s = \"require('in-double-string')\";\n",
        "const s = 'import x from \"in-single-string\"';\n",
        "const t = `import x from 'in-template'`;\n",
        "const t = `multi\nline require('in-template-2')\n`;\n",
        "const re = /require\\('in-regex'\\)/g;\n",
        "const re = /[/]import('in-class')/;\n",
        "if (x) /import('after-paren-regex')/.test(y);\n",
        "obj.require('member');\n",
        "obj?.import('optional-member');\n",
        "import.meta.resolve('meta');\n",
        "require(name);\n",
        "import(`dyn-${name}`);\n",
        "const o = { import: 1, require: 2, export: 3 };\n",
        "export const a = 1;\nexport { a };\n",
    ],
)
def test_js_non_imports_are_ignored(source: str) -> None:
    assert js_imports(source, "a.js") == []


def test_js_template_substitutions_are_code() -> None:
    source = (
        "const t = `a ${require('inside')} b ${ {k: 1}.k } require('tail') "
        "${`${require('nested')}`}`;\n"
    )
    assert [r.module for r in js_imports(source, "a.js")] == ["inside", "nested"]


def test_js_division_is_not_a_regex() -> None:
    source = "const d = a / b / require('after-division');\nconst e = (x) / 2; import('y');\n"
    assert [r.module for r in js_imports(source, "a.js")] == ["after-division", "y"]


def test_js_unterminated_tokens_do_not_crash() -> None:
    for source in (
        "import a from 'unterminated\nrequire('next-line')",
        "`never closed ${",
        "/* open",
    ):
        refs = js_imports(source, "a.js")
        assert all(r.module != "unterminated" for r in refs)
    assert [r.module for r in js_imports("'x\nrequire('ok')", "a.js")] == ["ok"]


def test_jsx_text_with_apostrophe_only_hides_its_own_line() -> None:
    source = "const C = () => <p>Don't panic</p>;\nimport x from 'after-jsx';\n"
    assert [r.module for r in js_imports(source, "a.jsx")] == ["after-jsx"]


def test_declaration_file_imports_are_type_only() -> None:
    (ref,) = js_imports("import { Foo } from 'foo';\n", "types/index.d.ts")
    assert ref.type_only and ref.module == "foo"


def test_js_import_attributes() -> None:
    refs = _js("import data from './data.json' with { type: 'json' };\nimport 'pkg';\n")
    assert [(r.module, r.line) for r in refs] == [("./data.json", 1), ("pkg", 2)]


def test_new_js_imports_ignores_moved_code() -> None:
    base = "import a from 'a';\nconst b = require('b');\n"
    head = (
        "const b = require('b');\n// moved\nimport a from 'a';\nimport c from 'c';\nimport('c');\n"
    )
    added = new_js_imports(base, head, "x.js")
    assert [(r.module, r.line) for r in added] == [("c", 4)]
    assert [r.module for r in new_js_imports(None, head, "x.js")] == ["b", "a", "c"]


def test_js_large_file_is_fast() -> None:
    chunk = "var x = a / 2; // c\nconst s = 'str'; /re+/.test(s); require('pkg');\n"
    source = chunk * 20000  # about 1.4 MB
    start = time.perf_counter()
    refs = js_imports(source, "bundle.js")
    assert len(refs) == 20000 and refs[-1].line == 40000
    assert time.perf_counter() - start < 15


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("lodash", ("lodash", False, False)),
        ("lodash/fp", ("lodash", False, False)),
        ("@scope/pkg", ("@scope/pkg", False, False)),
        ("@scope/pkg/sub/deep.js", ("@scope/pkg", False, False)),
        ("node:fs", ("fs", False, True)),
        ("node:fs/promises", ("fs", False, True)),
        ("node:test", ("test", False, True)),
        ("./x", ("./x", True, False)),
        ("../x/y", ("../x/y", True, False)),
        ("/abs/path.js", ("/abs/path.js", True, False)),
        (".", (".", True, False)),
        ("#internal/x", ("#internal/x", True, False)),
        ("https://esm.sh/react", ("https://esm.sh/react", True, False)),
        ("data:text/javascript,1", ("data:text/javascript,1", True, False)),
        ("npm:lodash@4.17.21/fp", ("lodash", False, False)),
        ("npm:@scope/pkg@1", ("@scope/pkg", False, False)),
        ("style-loader!css-loader!./styles.css", ("./styles.css", True, False)),
        ("raw-loader!some-pkg/file.txt", ("some-pkg", False, False)),
        ("icons/x.svg?react", ("icons", False, False)),
        ("", None),
        ("   ", None),
    ],
)
def test_js_package_names(spec: str, expected: tuple[str, bool, bool] | None) -> None:
    assert js_package(spec) == expected


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("a.py", "python"),
        ("pkg/stubs.pyi", "python"),
        ("a.js", "javascript"),
        ("a.mjs", "javascript"),
        ("a.cjs", "javascript"),
        ("App.jsx", "javascript"),
        ("a.ts", "javascript"),
        ("App.TSX", "javascript"),
        ("a.mts", "javascript"),
        ("a.cts", "javascript"),
        ("types.d.ts", "javascript"),
        ("README.md", None),
        ("Makefile", None),
        ("a.pyc", None),
    ],
)
def test_source_language(path: str, language: str | None) -> None:
    assert source_language(path) == language
