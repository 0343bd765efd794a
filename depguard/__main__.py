"""`python -m depguard`."""

from __future__ import annotations

from depguard.cli import main

if __name__ == "__main__":
    main()
