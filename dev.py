#!/usr/bin/env python3
"""Set up and run mftui from a checkout, with nothing but Python 3.11+.

    python3 dev.py run [mftui arguments]    set up .venv if needed, start mftui
    python3 dev.py test [pytest arguments]  set up .venv if needed, run the whole test suite
    python3 dev.py check                    set up .venv if needed, run ruff and mypy (strict) on mftui

The virtual environment is made once and refreshed when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".mftui-installed"


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036  (dev.py may be run by an older python3)
        sys.exit(f"mftui needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((HERE / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text() == wanted and (BIN / "mftui").exists():
        return
    if not (BIN / "python").exists():
        print("dev.py: creating .venv ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py: installing mftui and its test tools into .venv ...", file=sys.stderr)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "-e", f"{HERE}[test]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "check"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    os.chdir(HERE)
    if command == "check":
        lint = subprocess.run([str(BIN / "ruff"), "check", "mftui", "tests", "bench", "scripts", "dev.py"])
        types = subprocess.run([str(BIN / "mypy"), *rest])
        return lint.returncode or types.returncode
    if command == "run":
        exe = [str(BIN / "mftui"), *rest]
    else:
        exe = [str(BIN / "python"), "-m", "pytest", *rest]
    os.execv(exe[0], exe)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
