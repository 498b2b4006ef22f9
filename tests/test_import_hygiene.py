"""The core and the command line never load Textual (start-up cost; layering)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_core_and_cli_do_not_import_textual() -> None:
    code = textwrap.dedent(
        """
        import pkgutil, sys
        import mftui
        names = [
            m.name
            for m in pkgutil.walk_packages(mftui.__path__, "mftui.")
            if not m.name.startswith("mftui.tui") and m.name != "mftui.__main__"
        ]
        for name in names:
            __import__(name)
        import mftui.cli
        mftui.cli.build_parser()
        loaded = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
        assert not loaded, loaded
        print(len(names))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) >= 8  # settings, instance, archive.*, reboot, cli ... were really imported


def test_cli_commands_run_without_textual(tmp_path: object, config_file: object) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from mftui.cli import main
        assert main(["--config", {str(config_file)!r}, "list"]) == 0
        assert "textual" not in sys.modules
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
