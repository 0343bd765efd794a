"""`python -m depguard` and the `depguard` console script.

The pre-commit hook runs on every commit, so `depguard hook` first asks the stdlib-only
fast path (depguard.hookfast) whether the staged change can matter at all; only then is
the click CLI (and everything behind it) imported.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def _drop_working_directory_from_path() -> None:
    """`python -m depguard` puts the working directory first on sys.path; in a scanned
    project that would let a file like `json.py` shadow the standard library and run."""
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["hook"] and not any(a in ("-h", "--help") for a in args):
        from depguard.hookfast import needs_full_check

        if not needs_full_check():
            raise SystemExit(0)
    from depguard.cli import main as cli_main

    cli_main(args)


if __name__ == "__main__":
    _drop_working_directory_from_path()
    main()
