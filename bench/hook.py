"""`depguard hook` on a commit that cannot change the dependency surface vs `import click`.

A temp git repo holds a small npm + Python project (the real axios lockfile, a
pyproject.toml and some source files). The staged change edits a README and a Python
file without adding an import: the hook's fast path must answer without building a
graph. Reference: `python -c "import click"` (the floor for any click CLI). Target <= 1.5x.

Also prints `python -X importtime` for the hook path (the slowest modules by cumulative
import time), which RESULTS.md quotes.

    python bench/hook.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from _common import FIXTURES, PYTHON, depguard_cmd, emit, env, measure, run, table, verdict

TARGET = 1.5


def git(repo: Path, *args: str) -> None:
    run(["git", "-C", str(repo), *args])


def make_repo(repo: Path) -> Path:
    """A committed project, then a staged edit that touches no manifest and adds no import."""
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "bench@example.invalid")
    git(repo, "config", "user.name", "bench")
    git(repo, "config", "commit.gpgsign", "false")
    npm = FIXTURES / "lockfiles" / "npm"
    shutil.copyfile(npm / "axios-lockv2.package-lock.json", repo / "package-lock.json")
    shutil.copyfile(npm / "axios-lockv2.package.json", repo / "package.json")
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "bench"\nversion = "1.0"\ndependencies = ["requests>=2"]\n')
    (repo / "src").mkdir()
    for i in range(20):
        (repo / "src" / f"mod{i}.py").write_text(
            f'"""Module {i}."""\nimport json\n\n\ndef f{i}(x):\n    return json.dumps(x)\n')
    (repo / "README.md").write_text("# bench\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    (repo / "README.md").write_text("# bench\n\nMore words.\n")
    (repo / "src" / "mod3.py").write_text(
        '"""Module 3."""\nimport json\n\n\ndef f3(x):\n    return json.dumps(x, indent=2)\n')
    git(repo, "add", "README.md", "src/mod3.py")
    return repo


def importtime(repo: Path, top: int = 15) -> list[tuple[int, int, str]]:
    """(self us, cumulative us, module) for the slowest imports of the hook path."""
    proc = subprocess.run([PYTHON, "-X", "importtime", "-m", "depguard", "hook"], cwd=repo,
                          env=env(), capture_output=True, text=True, check=False)
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative, name = (part.strip() for part in line[12:].split("|"))
        rows.append((int(self_us), int(cumulative), name))
    return sorted(rows, key=lambda r: -r[1])[:top]


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-hook-") as tmp:
        repo = make_repo(Path(tmp) / "repo")
        ref = measure([PYTHON, "-c", "import click"], runs=args.runs, cwd=repo)
        bare = measure([PYTHON, "-c", "pass"], runs=args.runs, cwd=repo)
        ours = measure(depguard_cmd("hook"), runs=args.runs, cwd=repo)
        imports = importtime(repo)
    ratio = ours.wall / ref.wall
    print(table(["command", "median wall s", "ratio", "median CPU s"], [
        ["python -c pass", f"{bare.wall:.3f}", f"{bare.wall / ref.wall:.2f}x", f"{bare.cpu:.3f}"],
        ['python -c "import click"', f"{ref.wall:.3f}", "1.00 (reference)", f"{ref.cpu:.3f}"],
        ["python -m depguard hook (fast path)", f"{ours.wall:.3f}", f"{ratio:.2f}x",
         f"{ours.cpu:.3f}"],
    ]))
    print(f"target <= {TARGET}x: {verdict(ratio, TARGET)}")
    print("python -X importtime -m depguard hook, slowest imports (cumulative):")
    print(table(["module", "self ms", "cumulative ms"],
                [[name, f"{s / 1000:.1f}", f"{c / 1000:.1f}"] for s, c, name in imports]))
    result: dict[str, object] = {"click_s": ref.wall, "hook_s": ours.wall, "ratio": ratio,
                                 "bare_s": bare.wall, "target": TARGET,
                                 "importtime": [[n, s, c] for s, c, n in imports]}
    emit("hook", result)
    return result


if __name__ == "__main__":
    main()
