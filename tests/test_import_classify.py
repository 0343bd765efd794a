"""Import classification: stdlib, first-party, declared, undeclared, unknown."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from depguard.import_classify import (
    Classified,
    ImportClassifier,
    ImportKind,
    discover_first_party,
    import_name_map,
    node_builtins,
    python_stdlib,
)
from depguard.imports import ImportRef, js_imports, python_imports
from depguard.models import Ecosystem

PY = Ecosystem.PYPI
NPM = Ecosystem.NPM


def _classifier(
    declared: Mapping[Ecosystem, set[str]] | None = None,
    *,
    python: set[str] | None = None,
    js: set[str] | None = None,
    version: tuple[int, int] = (3, 11),
) -> ImportClassifier:
    return ImportClassifier(
        first_party_python=python or set(),
        first_party_js=js or set(),
        declared=declared or {},
        python_version=version,
        installed={},
    )


def _py(classifier: ImportClassifier, source: str, file: str = "app/main.py") -> Classified:
    (ref,) = python_imports(source, file)
    return classifier.classify(ref)


def _js(classifier: ImportClassifier, source: str, file: str = "src/app.ts") -> Classified:
    (ref,) = js_imports(source, file)
    return classifier.classify(ref)


# --------------------------------------------------------------------------- Python


@pytest.mark.parametrize(
    "source",
    ["import json", "import typing", "import os.path", "from __future__ import annotations",
     "from collections.abc import Mapping", "import tomllib", "import _typeshed"],
)  # fmt: skip
def test_python_stdlib_wins_even_when_a_pypi_project_has_the_name(source: str) -> None:
    classifier = _classifier({PY: {"typing", "json", "tomllib"}})
    result = _py(classifier, source)
    assert result.kind is ImportKind.STDLIB
    assert result.distribution is None
    assert result.reason == "standard library (Python 3.11)"


@pytest.mark.parametrize(
    ("version", "module", "stdlib"),
    [
        ((3, 11), "distutils", True),
        ((3, 12), "distutils", False),
        ((3, 12), "imp", False),
        ((3, 12), "cgi", True),
        ((3, 13), "cgi", False),
        ((3, 13), "telnetlib", False),
        ((3, 10), "tomllib", False),
        ((3, 14), "annotationlib", True),
        ((3, 13), "annotationlib", False),
    ],
)
def test_python_stdlib_depends_on_target_version(
    version: tuple[int, int], module: str, stdlib: bool
) -> None:
    assert (module in python_stdlib(version)) is stdlib


def test_removed_stdlib_module_maps_to_its_successor() -> None:
    result = _py(_classifier({PY: {"setuptools"}}, version=(3, 12)), "import distutils.core")
    assert (result.kind, result.distribution) == (ImportKind.DECLARED, "setuptools")


MAPPINGS = [
    ("import yaml", "pyyaml"),
    ("import cv2", "opencv-python"),
    ("from sklearn.linear_model import Ridge", "scikit-learn"),
    ("from PIL import Image", "pillow"),
    ("from bs4 import BeautifulSoup", "beautifulsoup4"),
    ("from dateutil import parser", "python-dateutil"),
    ("from google.protobuf import message", "protobuf"),
    ("import google.protobuf.json_format", "protobuf"),
    ("import jwt", "pyjwt"),
    ("import magic", "python-magic"),
    ("from dotenv import load_dotenv", "python-dotenv"),
    ("from Crypto.Cipher import AES", "pycryptodome"),
    ("import docx", "python-docx"),
    ("import attr", "attrs"),
    ("import serial", "pyserial"),
    ("import usb.core", "pyusb"),
    ("import psycopg2", "psycopg2"),
    ("import MySQLdb", "mysqlclient"),
    ("import mysql.connector", "mysql-connector-python"),
    ("import pkg_resources", "setuptools"),
    ("import slugify", "python-slugify"),
    ("from google.cloud import storage", "google-cloud-storage"),
    ("import google.cloud.bigquery", "google-cloud-bigquery"),
    ("from azure.storage.blob import BlobClient", "azure-storage-blob"),
    ("from backports import zoneinfo", "backports-zoneinfo"),
    ("import zope.interface", "zope-interface"),
    ("from ruamel.yaml import YAML", "ruamel-yaml"),
    ("import requests", "requests"),
]


@pytest.mark.parametrize(("source", "distribution"), MAPPINGS)
def test_python_import_maps_to_distribution(source: str, distribution: str) -> None:
    undeclared = _py(_classifier(), source)
    assert undeclared.kind is ImportKind.UNDECLARED
    assert undeclared.distribution == distribution
    declared = _py(_classifier({PY: {distribution}}), source)
    assert declared.kind is ImportKind.DECLARED
    assert declared.distribution == distribution


def test_undeclared_reason_names_the_distribution() -> None:
    result = _py(_classifier({PY: {"requests"}}), "import yaml")
    assert result.reason == "not declared in any manifest (distribution 'PyYAML')"


def test_declared_reason_names_the_declared_distribution() -> None:
    result = _py(_classifier({PY: {"PyYAML"}}), "import yaml")
    assert result.reason == "declared in a manifest as 'pyyaml'"


@pytest.mark.parametrize("declared", ["opencv-python-headless", "opencv_contrib_python"])
def test_any_of_several_distributions_counts_as_declared(declared: str) -> None:
    result = _py(_classifier({PY: {declared}}), "import cv2")
    assert result.kind is ImportKind.DECLARED


def test_import_name_itself_canonicalized_counts_as_declared() -> None:
    result = _py(_classifier({PY: {"Foo.Bar"}}), "import foo_bar")
    assert (result.kind, result.distribution) == (ImportKind.DECLARED, "foo-bar")


def test_unknown_distribution_is_guessed_and_says_so() -> None:
    result = _py(_classifier({PY: {"requests"}}), "import foo_bar.sub")
    assert result.kind is ImportKind.UNDECLARED
    assert result.distribution == "foo-bar"
    assert "distribution for 'foo_bar.sub' unknown (guessing 'foo-bar')" in result.reason


def test_google_namespace_does_not_borrow_protobuf() -> None:
    result = _py(_classifier({PY: {"protobuf"}}), "from google.cloud import storage")
    assert (result.kind, result.distribution) == (ImportKind.UNDECLARED, "google-cloud-storage")


def test_installed_environment_mapping_is_used_first() -> None:
    classifier = ImportClassifier(
        first_party_python=set(),
        first_party_js=set(),
        declared={},
        installed={"weird": ["Weird-Dist"], "yaml": ["pyyaml-fork"]},
    )
    assert _py(classifier, "import weird").distribution == "weird-dist"
    assert _py(classifier, "import yaml").distribution == "pyyaml-fork"


@pytest.mark.skipif(importlib.util.find_spec("mypyc") is None, reason="mypy not installed")
def test_real_installed_environment_maps_mypyc_to_mypy() -> None:
    classifier = ImportClassifier(first_party_python=set(), first_party_js=set(), declared={})
    result = _py(classifier, "import mypyc")
    assert result.distribution == "mypy"


def test_python_relative_and_first_party() -> None:
    classifier = _classifier(python={"myapp"})
    assert _py(classifier, "from . import x").kind is ImportKind.FIRST_PARTY
    assert _py(classifier, "from ..yaml import x").kind is ImportKind.FIRST_PARTY
    result = _py(classifier, "from myapp.core import run")
    assert (result.kind, result.reason) == (ImportKind.FIRST_PARTY, "first-party package 'myapp'")


def test_python_dynamic_name_that_is_not_a_module_is_unknown() -> None:
    result = _py(_classifier(), "__import__('foo-bar')")
    assert result.kind is ImportKind.UNKNOWN


def test_import_name_map_keeps_curated_rows_first() -> None:
    table = import_name_map()
    assert table["slugify"][0] == "python-slugify"
    assert table["google.protobuf"] == ("protobuf",)
    assert "abl.util" in table["abl"]  # a pipreqs row with several distributions


# --------------------------------------------------------------------------- JavaScript


def test_node_builtins_data() -> None:
    plain, prefixed = node_builtins()
    assert {"fs", "fs/promises", "path", "child_process", "punycode"} <= plain
    assert {"test", "sqlite", "sea", "test/reporters"} <= prefixed
    assert "test" not in plain


@pytest.mark.parametrize(
    ("source", "kind", "distribution"),
    [
        ("import fs from 'fs';", ImportKind.STDLIB, None),
        ("import {readFile} from 'fs/promises';", ImportKind.STDLIB, None),
        ("import fs from 'node:fs';", ImportKind.STDLIB, None),
        ("import {test} from 'node:test';", ImportKind.STDLIB, None),
        ("import {DatabaseSync} from 'node:sqlite';", ImportKind.STDLIB, None),
        ("import test from 'test';", ImportKind.UNDECLARED, "test"),
        ("import fp from 'lodash/fp';", ImportKind.DECLARED, "lodash"),
        ("import x from '@Scope/Pkg/sub';", ImportKind.DECLARED, "@scope/pkg"),
        ("import axios from 'axios';", ImportKind.UNDECLARED, "axios"),
        ("import type {Fetch} from 'node-fetch';", ImportKind.DECLARED, "@types/node-fetch"),
        ("import fetch from 'node-fetch';", ImportKind.UNDECLARED, "node-fetch"),
        ("import type {X} from '@babel/core';", ImportKind.DECLARED, "@types/babel__core"),
        ("import p from 'punycode';", ImportKind.DECLARED, "punycode"),
        ("import x from './local';", ImportKind.FIRST_PARTY, None),
        ("import x from 'https://esm.sh/react';", ImportKind.FIRST_PARTY, None),
        ("import x from '~/components/a';", ImportKind.UNKNOWN, None),
        ("import x from '@/components/a';", ImportKind.UNKNOWN, None),
        ("import x from '$lib/a';", ImportKind.UNKNOWN, None),
    ],
)
def test_js_classification(source: str, kind: ImportKind, distribution: str | None) -> None:
    declared = {
        NPM: {"lodash", "@scope/pkg", "@types/node-fetch", "@types/babel__core", "punycode"}
    }
    result = _js(_classifier(declared), source)
    assert (result.kind, result.distribution) == (kind, distribution)


def test_js_catch_all_path_alias_is_not_first_party() -> None:
    classifier = _classifier(js={"*", "@app/*"})
    assert _js(classifier, "import a from 'axios';").kind is ImportKind.UNDECLARED
    assert _js(classifier, "import a from '@app/x';").kind is ImportKind.FIRST_PARTY
    assert _js(classifier, "import a from '@app';").kind is ImportKind.UNKNOWN  # bare scope


def test_js_undeclared_reason() -> None:
    result = _js(_classifier(), "require('left-pad')")
    assert result.reason == "not declared in any package.json (package 'left-pad')"


# --------------------------------------------------------------------------- project layouts


def _write(root: Path, files: Mapping[str, str]) -> list[str]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(files)


def _project(
    root: Path, files: Mapping[str, str], declared: Mapping[Ecosystem, set[str]]
) -> ImportClassifier:
    names = _write(root, files)

    def read(path: str) -> str | None:
        target = root / path
        return target.read_text(encoding="utf-8") if target.is_file() else None

    return ImportClassifier.for_project(names, read, declared, python_version=(3, 11), installed={})


def _kinds(classifier: ImportClassifier, source: str, file: str) -> dict[str, ImportKind]:
    refs: list[ImportRef] = (
        python_imports(source, file) if file.endswith(".py") else js_imports(source, file)
    )
    return {ref.module: classifier.classify(ref).kind for ref in refs}


SRC_LAYOUT = {
    "pyproject.toml": '[project]\nname = "my-app"\ndependencies = ["PyYAML"]\n',
    "src/myapp/__init__.py": "",
    "src/myapp/core.py": "",
    "src/myapp/sub/__init__.py": "",
    "src/standalone.py": "",
    "tests/conftest.py": "",
    "tests/helpers.py": "",
    "tests/test_core.py": "",
    "scripts/tool.py": "",
    "scripts/toolhelp.py": "",
    ".venv/lib/python3.11/site-packages/requests/__init__.py": "",
    "node_modules/lodash/package.json": '{"name": "lodash"}',
}


def test_src_layout(tmp_path: Path) -> None:
    classifier = _project(tmp_path, SRC_LAYOUT, {PY: {"PyYAML", "pytest"}})
    source = (
        "import json\nimport myapp.sub\nimport standalone\nimport my_app\nimport helpers\n"
        "import yaml\nimport pytest\nimport requests\nimport toolhelp\n"
    )
    assert _kinds(classifier, source, "tests/test_core.py") == {
        "json": ImportKind.STDLIB,
        "myapp.sub": ImportKind.FIRST_PARTY,
        "standalone": ImportKind.FIRST_PARTY,
        "my_app": ImportKind.FIRST_PARTY,
        "helpers": ImportKind.FIRST_PARTY,
        "yaml": ImportKind.DECLARED,
        "pytest": ImportKind.DECLARED,
        "requests": ImportKind.UNDECLARED,
        "toolhelp": ImportKind.UNDECLARED,  # only a sibling of scripts/, not of tests/
    }
    assert _kinds(classifier, "import toolhelp\n", "scripts/tool.py") == {
        "toolhelp": ImportKind.FIRST_PARTY
    }


def test_sibling_modules_do_not_count_inside_a_package(tmp_path: Path) -> None:
    classifier = _project(tmp_path, SRC_LAYOUT, {})
    assert _kinds(classifier, "import core\n", "src/myapp/sub/x.py") == {
        "core": ImportKind.UNDECLARED
    }


def test_flat_layout_and_setup_cfg(tmp_path: Path) -> None:
    files = {
        "setup.cfg": (
            "[metadata]\nname = flat.tool\n[options]\npackages =\n    flatpkg\n    extra_pkg.sub\n"
        ),
        "flatpkg/__init__.py": "",
        "flatpkg/deep/__init__.py": "",
        "manage.py": "",
        "docs/conf.py": "",
    }
    found = discover_first_party(_write(tmp_path, files), lambda p: (tmp_path / p).read_text())
    assert {"flatpkg", "manage", "docs", "flat_tool", "extra_pkg"} <= found.python
    assert "deep" not in found.python


def test_monorepo_python_packages(tmp_path: Path) -> None:
    files = {
        "packages/alpha/src/alpha/__init__.py": "",
        "packages/alpha/pyproject.toml": (
            '[tool.poetry]\nname = "alpha-lib"\npackages = [{include = "alpha"}]\n'
        ),
        "services/beta/beta/__init__.py": "",
        "services/beta/beta/api/__init__.py": "",
    }
    classifier = _project(tmp_path, files, {})
    kinds = _kinds(classifier, "import alpha\nimport alpha_lib\nimport beta.api\n", "x/y.py")
    assert set(kinds.values()) == {ImportKind.FIRST_PARTY}


def test_js_workspace_with_tsconfig_aliases(tmp_path: Path) -> None:
    files = {
        "package.json": json.dumps(
            {"name": "root", "private": True, "workspaces": ["packages/*", "apps/*"]}
        ),
        "packages/ui/package.json": json.dumps({"name": "@acme/ui"}),
        "packages/ui/src/index.ts": "",
        "apps/web/package.json": json.dumps({"name": "web", "dependencies": {"react": "^18"}}),
        "apps/web/tsconfig.json": (
            '{\n  // comments and trailing commas are allowed\n  "compilerOptions": {\n'
            '    "baseUrl": "src",\n'
            '    "paths": {"@/*": ["./src/*"], "~icons/*": ["./icons/*"],},\n'
            "    /* block */\n  },\n}\n"
        ),
        "apps/web/src/components/Button.tsx": "",
        "apps/web/src/utils.ts": "",
        "apps/web/src/app.tsx": "",
    }
    classifier = _project(tmp_path, files, {NPM: {"react", "@acme/ui", "web"}})
    source = (
        "import React from 'react';\nimport {Button} from '@acme/ui/button';\n"
        "import x from '@/lib/x';\nimport i from '~icons/mdi/home';\n"
        "import B from 'components/Button';\nimport u from 'utils';\nimport fs from 'fs';\n"
        "import lp from 'left-pad';\nimport r from './rel';\n"
    )
    assert _kinds(classifier, source, "apps/web/src/app.tsx") == {
        "react": ImportKind.DECLARED,
        "@acme/ui/button": ImportKind.FIRST_PARTY,
        "@/lib/x": ImportKind.FIRST_PARTY,
        "~icons/mdi/home": ImportKind.FIRST_PARTY,
        "components/Button": ImportKind.FIRST_PARTY,
        "utils": ImportKind.FIRST_PARTY,
        "fs": ImportKind.STDLIB,
        "left-pad": ImportKind.UNDECLARED,
        "./rel": ImportKind.FIRST_PARTY,
    }
    assert _kinds(classifier, "import l from 'lodash';\n", "a.js") == {
        "lodash": ImportKind.UNDECLARED
    }


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pyproject.toml", "[project\nname = "),
        ("pyproject.toml", "project = 3\n[tool]\npoetry = 'x'\n"),
        ("setup.cfg", "no section header\n"),
        ("package.json", "{not json"),
        ("package.json", '{"name": 42}'),
        ("tsconfig.json", '{"compilerOptions": {"paths": ["not", "a", "map"]}}'),
        ("tsconfig.json", '{"compilerOptions": {"baseUrl": 7}}'),
        ("tsconfig.json", "[]"),
    ],
)
def test_malformed_project_files_are_ignored(tmp_path: Path, name: str, text: str) -> None:
    classifier = _project(tmp_path, {name: text, "app/__init__.py": ""}, {})
    assert _kinds(classifier, "import app\n", "main.py") == {"app": ImportKind.FIRST_PARTY}


def test_unreadable_project_files_are_ignored() -> None:
    found = discover_first_party(
        ["pyproject.toml", "package.json", "tsconfig.json", "a.py"], lambda p: None
    )
    assert found.python == {"a"}
    assert found.js == set()
