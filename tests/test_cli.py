"""The command line, run as a real process: outputs, JSON shapes, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mftui.archive.writer import create_backup
from mftui.settings import Settings


def mftui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mftui", *args], capture_output=True, text=True,
                          env=env or dict(os.environ), timeout=60)


def test_demo_default_in_an_empty_home(isolated_home: Path) -> None:
    made = mftui("backup", "--name", "first", "--json")
    assert made.returncode == 0, made.stderr
    out = json.loads(made.stdout)
    assert Path(out["path"]).is_relative_to(isolated_home)
    assert out["name"] == "first" and out["files"] > 10 and out["bytes"] > 0
    listed = mftui("list")
    assert listed.returncode == 0 and "first_" in listed.stdout


def test_backup_json_and_inspect_json(config_file: Path) -> None:
    made = mftui("--config", str(config_file), "backup", "--name", "site A", "--json")
    assert made.returncode == 0, made.stderr
    out = json.loads(made.stdout)
    assert {"path", "name", "created_at", "files", "bytes"} <= set(out)
    assert made.stderr == ""  # no progress bar when stderr is not a terminal
    shown = mftui("--config", str(config_file), "inspect", out["path"], "--json")
    assert shown.returncode == 0, shown.stderr
    info = json.loads(shown.stdout)
    for key in ("name", "created_at", "format_version", "product_version", "instance_id", "hostname",
                "files", "bytes", "components"):
        assert key in info, key
    assert info["name"] == "site-A" and info["instance_id"] == "3fa2c1" and info["files"] == out["files"]
    assert sum(info["components"].values()) == info["files"]
    text = mftui("--config", str(config_file), "inspect", out["path"])
    assert "3fa2c1" in text.stdout and "MobiusFlow 4.2.1" in text.stdout


def test_plain_backup_prints_the_path(config_file: Path) -> None:
    made = mftui("--config", str(config_file), "backup")
    assert made.returncode == 0
    path = Path(made.stdout.strip())
    assert path.is_file() and path.name.startswith("backup_")


def test_list_newest_first_and_reports_unreadable(settings: Settings, config_file: Path, tmp_path: Path) -> None:
    """Ordered by created_at, which here disagrees with the order made, the names and the file times."""
    made = {name: create_backup(settings, name, now=datetime(2026, 3, day, 12, tzinfo=UTC)).path
            for name, day in (("z-middle", 2), ("a-oldest", 1), ("m-newest", 3))}
    (tmp_path / "backups" / "junk.zip").write_text("not a zip")
    listed = json.loads(mftui("--config", str(config_file), "list", "--json").stdout)
    good = [b for b in listed if b["ok"]]
    assert [b["name"] for b in good] == ["m-newest", "z-middle", "a-oldest"]
    assert [b["path"] for b in good] == [str(made[name]) for name in ("m-newest", "z-middle", "a-oldest")]
    junk = [b for b in listed if not b["ok"]]
    assert len(junk) == 1 and "not a readable zip" in junk[0]["problem"]
    text = mftui("--config", str(config_file), "list").stdout
    assert text.index("m-newest_") < text.index("z-middle_") < text.index("a-oldest_")


def test_usage_errors_exit_2_and_help_documents_codes() -> None:
    assert mftui("frobnicate").returncode == 2
    assert mftui("inspect").returncode == 2
    helped = mftui("--help")
    assert helped.returncode == 0
    assert "exit codes" in helped.stdout and "2  usage" in helped.stdout


def test_inspect_missing_file_exits_1(config_file: Path, tmp_path: Path) -> None:
    proc = mftui("--config", str(config_file), "inspect", str(tmp_path / "nope.zip"))
    assert proc.returncode == 1 and "does not exist" in proc.stderr
    folder = mftui("--config", str(config_file), "verify", str(tmp_path))
    assert folder.returncode == 1 and folder.stderr.count(str(tmp_path)) == 1, folder.stderr  # named once


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) for a terminal")
def test_progress_bar_on_a_terminal(config_file: Path, tmp_path: Path) -> None:
    big = Path(config_file).parent / "site" / "mobiusflow" / "flows" / "big.bin"
    big.write_bytes(os.urandom(4_000_000))
    log = tmp_path / "typescript"
    cmd = f"{sys.executable} -m mftui --config {config_file} backup 1>/dev/null"
    subprocess.run(["script", "-qec", cmd, str(log)], capture_output=True, timeout=60)
    assert "backup [" in log.read_text(errors="replace")


def test_list_shows_the_safety_copy_and_the_previous_configuration(config_file: Path) -> None:
    made = json.loads(mftui("--config", str(config_file), "backup", "--name", "keep", "--json").stdout)
    restored = mftui("--config", str(config_file), "restore", made["path"], "--yes", "--no-reboot")
    assert restored.returncode == 0, restored.stderr
    listed = json.loads(mftui("--config", str(config_file), "list", "--json").stdout)
    kinds = [row.get("kind") for row in listed]
    assert kinds.count("safety") == 1 and kinds.count("manual") == 1
    assert kinds[-1] == "previous" and listed[-1]["files"] == made["files"]
    text = mftui("--config", str(config_file), "list").stdout
    assert "[safety copy]" in text and "mftui restore --previous" in text


# --- untrusted text, robust output, --json in every outcome (issue 8, items 9-11) -------------------------

EVIL = "\x1b]0;pwned\x07\x1b[2J\u202eevil\x9b2J"  # set the title, ring, clear the screen, bidi override, 8-bit CSI
UNSAFE = (b"\x1b", b"\x07", "\u202e".encode(), "\x9b".encode())


def run_bytes(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "mftui", *args], stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout)


def assert_safe(proc: subprocess.CompletedProcess[bytes]) -> None:
    for stream in (proc.stdout, proc.stderr):
        for bad in UNSAFE:
            assert bad not in stream, (bad, stream)
    assert b"Traceback" not in proc.stderr, proc.stderr


def crafted(instance_root: Path, dest: Path, edit: Any) -> Path:
    """A backup of the demo instance whose backup.json is edited (tests/hostile.py lays it out)."""
    from hostile import backup_entries, layout, read_tree

    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(layout(backup_entries(read_tree(instance_root), edit=edit)))
    return dest


def evil_strings(meta: dict[str, Any]) -> None:
    meta["name"] = "n" + EVIL
    meta["instance"].update(hostname="h" + EVIL, id="i" + EVIL, product="p" + EVIL, version="v" + EVIL)
    meta["tool"]["version"] = "t" + EVIL


def test_escapes_in_backup_json_never_reach_the_terminal(config_file: Path, instance_root: Path,
                                                          tmp_path: Path) -> None:
    evil = crafted(instance_root, tmp_path / "backups" / f"x{EVIL}.zip", evil_strings)
    cfg = str(config_file)
    shown = run_bytes("--config", cfg, "inspect", str(evil))
    assert_safe(shown)
    if shown.returncode == 0:  # a parser may refuse such a backup.json; either way nothing raw is shown
        assert b"\\x1b]0;pwned\\x07\\x1b[2J\\u202eevil\\x9b2J" in shown.stdout
    for args in (["inspect", str(evil)], ["inspect", str(evil), "--changes"], ["verify", str(evil)], ["list"],
                 ["inspect", str(tmp_path / f"missing{EVIL}.zip")], ["verify", str(tmp_path / f"m{EVIL}.zip")]):
        assert_safe(run_bytes("--config", cfg, *args))
        as_json = run_bytes("--config", cfg, *args, "--json")
        assert_safe(as_json)
        json.loads(as_json.stdout)  # still one JSON value, with the strings escaped the JSON way
    listed = json.loads(run_bytes("--config", cfg, "list", "--json").stdout)
    assert [row["path"] for row in listed] == [str(evil)]  # JSON keeps the data exactly
    text = run_bytes("--config", cfg, "list")
    assert b"x\\x1b]0;pwned\\x07\\x1b[2J\\u202eevil\\x9b2J.zip" in text.stdout


# Not printable, yet not a control character: the archive parser accepts these, and show still escapes them.
ODD = "\u2028\u00a0\u2029"
ODD_SHOWN = b"\\u2028\\xa0\\u2029"


def test_odd_text_the_parser_accepts_is_shown_escaped(config_file: Path, instance_root: Path,
                                                       tmp_path: Path) -> None:
    def odd(meta: dict[str, Any]) -> None:
        meta["name"] = "n" + ODD
        meta["instance"].update(hostname="h" + ODD, product="p" + ODD)
        meta["tool"]["version"] = "t" + ODD

    path = crafted(instance_root, tmp_path / "odd.zip", odd)
    shown = run_bytes("--config", str(config_file), "inspect", str(path), "--changes")
    assert shown.returncode == 0, shown.stderr
    for label in (b"Name:        n", b"(h", b"Product:     p", b"(mftui t"):
        assert label + ODD_SHOWN in shown.stdout, label
    assert ODD.encode() not in shown.stdout and "\u2028".encode() not in shown.stdout


def test_json_output_keeps_strings_exact(config_file: Path, instance_root: Path, tmp_path: Path) -> None:
    def readable(meta: dict[str, Any]) -> None:
        meta["name"] = "Réseau\u00a0nord"
        meta["instance"]["hostname"] = "h" + ODD

    path = crafted(instance_root, tmp_path / f"odd{EVIL}.zip", readable)
    proc = run_bytes("--config", str(config_file), "inspect", str(path), "--json")
    assert_safe(proc)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["ok"] is True and info["name"] == "Réseau\u00a0nord" and info["hostname"] == "h" + ODD
    assert "Réseau".encode() in proc.stdout  # printable text stays readable; only the unsafe is escaped
    assert b'"h\\u2028\\u00a0\\u2029"' in proc.stdout
    missing = run_bytes("--config", str(config_file), "inspect", str(tmp_path / f"m{EVIL}.zip"), "--json")
    assert_safe(missing)
    assert missing.returncode == 1 and "does not exist" in json.loads(missing.stdout)["reason"]


@pytest.mark.parametrize(
    ("key", "value"),
    [("name", "\ud800"), ("created_at", "0001-01-01T00:00:00+01:00"), ("created_at", "9999-12-31T23:59:59-14:00"),
     ("hostname", "\udcff")],
)
def test_strange_strings_never_crash(config_file: Path, instance_root: Path, tmp_path: Path, key: str,
                                     value: str) -> None:
    def edit(meta: dict[str, Any]) -> None:
        (meta["instance"] if key == "hostname" else meta)[key] = value

    path = crafted(instance_root, tmp_path / "backups" / "strange.zip", edit)
    cfg = str(config_file)
    for args in (["inspect", str(path)], ["inspect", str(path), "--changes"], ["list"], ["verify", str(path)]):
        text = run_bytes("--config", cfg, *args)
        assert_safe(text)
        assert text.returncode in (0, 1) and (text.returncode == 0 or text.stderr.startswith(b"mftui: "))
        as_json = run_bytes("--config", cfg, *args, "--json")
        assert_safe(as_json)
        assert as_json.returncode == text.returncode
        out = json.loads(as_json.stdout)
        if args[0] == "inspect" and as_json.returncode == 0:
            assert out[key] == value  # the JSON says exactly what backup.json says


def test_one_bad_archive_does_not_break_list(config_file: Path, instance_root: Path, tmp_path: Path) -> None:
    good = json.loads(mftui("--config", str(config_file), "backup", "--name", "good", "--json").stdout)

    def float_size(meta: dict[str, Any]) -> None:
        meta["files"][0]["size"] = float(meta["files"][0]["size"])

    bad = crafted(instance_root, tmp_path / "backups" / "float-size.zip", float_size)
    proc = mftui("--config", str(config_file), "list", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {row["path"]: row for row in json.loads(proc.stdout)}
    assert rows[good["path"]]["ok"] is True and rows[good["path"]]["files"] == good["files"]
    assert rows[str(bad)]["ok"] is False and "size is not a whole number" in rows[str(bad)]["problem"]
    text = mftui("--config", str(config_file), "list")
    assert text.returncode == 0 and "float-size.zip  (unreadable: " in text.stdout
    assert Path(good["path"]).name in text.stdout


def failing_json(*args: str) -> dict[str, Any]:
    proc = run_bytes(*args)
    assert b"Traceback" not in proc.stderr
    out = json.loads(proc.stdout)
    assert out["ok"] is False and out["reason"] and proc.returncode in (1, 2)
    assert proc.stderr.decode().startswith(("mftui: ", "usage: mftui")) and out["reason"] in proc.stderr.decode()
    out["exit"] = proc.returncode
    return out


def test_every_json_command_prints_json_when_it_fails(config_file: Path, tmp_path: Path) -> None:
    cfg = str(config_file)
    missing = str(tmp_path / "nope.zip")
    out = failing_json("--config", cfg, "inspect", missing, "--json")
    assert out["exit"] == 1 and "does not exist" in out["reason"]
    assert failing_json("--config", cfg, "inspect", missing, "--changes", "--json")["exit"] == 1
    assert failing_json("--config", cfg, "verify", missing, "--json")["exit"] == 1
    assert failing_json("--config", cfg, "restore", missing, "--yes", "--json")["restored"] is False

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the backups folder should be")
    broken = tmp_path / "blocked.toml"
    broken.write_text(config_file.read_text().replace(str(tmp_path / "backups"), str(blocked / "backups")))
    assert failing_json("--config", str(broken), "backup", "--json")["exit"] == 1

    bad_settings = tmp_path / "bad.toml"
    bad_settings.write_text("[instance\nroot = 3\n")
    for command in (["backup"], ["list"], ["inspect", missing], ["verify", missing], ["restore", missing, "--yes"]):
        assert failing_json("--config", str(bad_settings), *command, "--json")["exit"] == 2, command
    usage = failing_json("--config", cfg, "inspect", "--json")  # no FILE: argparse's own error
    assert usage["exit"] == 2 and "file" in usage["reason"]


def test_json_success_objects_say_ok(config_file: Path) -> None:
    made = json.loads(mftui("--config", str(config_file), "backup", "--name", "ok", "--json").stdout)
    assert made["ok"] is True
    shown = json.loads(mftui("--config", str(config_file), "inspect", made["path"], "--json").stdout)
    assert shown["ok"] is True
    assert all(row["ok"] is True for row in json.loads(mftui("--config", str(config_file), "list", "--json").stdout))


def test_an_os_error_is_one_sentence_with_what_to_do(tmp_path: Path) -> None:
    """root = /proc/sys: no state folder can be made beside it; a sentence, never a traceback."""
    cfg = tmp_path / "proc.toml"
    cfg.write_text(f'[instance]\nroot = "/proc/sys"\n[backups]\ndir = "{tmp_path / "b"}"\n[reboot]\nbackend = "demo"\n')
    for json_flag in ([], ["--json"]):
        proc = run_bytes("--config", str(cfg), "backup", *json_flag)
        err = proc.stderr.decode()
        assert proc.returncode in (1, 2) and "Traceback" not in err, err
        assert err.startswith("mftui: ") and err.count("\n") == 1, err
        if json_flag:
            assert json.loads(proc.stdout)["ok"] is False


def test_an_os_error_the_core_did_not_word_is_one_sentence(config_file: Path) -> None:
    """Planted in a child process (the core words the ones it knows of): the path and what to do, exit 1."""
    code = ("import sys, mftui.cli as c\n"
            "def boom(settings, args): raise PermissionError(13, 'Permission denied', '/data/x\\x1b[2J')\n"
            "c.COMMANDS['list'] = boom\n"
            "sys.exit(c.main(sys.argv[1:]))\n")
    for json_flag in ([], ["--json"]):
        proc = subprocess.run([sys.executable, "-c", code, "--config", str(config_file), "list", *json_flag],
                              capture_output=True, text=True, timeout=60)
        said = ("permission denied: /data/x\\x1b[2J (check its owner and permissions, or run mftui as the user "
                "that owns the instance)")
        assert proc.returncode == 1 and proc.stderr == f"mftui: {said}\n", proc.stderr
        if json_flag:
            assert json.loads(proc.stdout) == {"ok": False, "reason": said}
        else:
            assert proc.stdout == ""


def test_an_unexpected_error_is_one_line_and_a_crash_log(config_file: Path, isolated_home: Path) -> None:
    """A bug (here planted in a child process: the real one cannot be reached on purpose) is no traceback."""
    code = ("import sys, mftui.cli as c\n"
            "def boom(settings, args): raise KeyError('planted bug')\n"
            "c.COMMANDS['list'] = boom\n"
            "sys.exit(c.main(sys.argv[1:]))\n")
    for json_flag in ([], ["--json"]):
        proc = subprocess.run([sys.executable, "-c", code, "--config", str(config_file), "list", *json_flag],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
        assert "unexpected error (KeyError: 'planted bug')" in proc.stderr
        log = Path(proc.stderr.split("details are in ")[1].split(";")[0].strip())
        assert log.is_relative_to(isolated_home) and "in boom\nKeyError: 'planted bug'" in log.read_text()
        if json_flag:
            out = json.loads(proc.stdout)
            assert out["ok"] is False and out["crash_log"] == str(log)


def test_no_command_without_a_terminal_refuses_and_suggests_one(config_file: Path) -> None:
    try:
        proc = run_bytes("--config", str(config_file), timeout=20)
    except subprocess.TimeoutExpired:  # pragma: no cover - the bug: the TUI started and waited for keys
        pytest.fail("mftui with no terminal started the TUI")
    err = proc.stderr.decode()
    assert proc.returncode == 2 and proc.stdout == b"" and "\x1b" not in err
    assert "no terminal" in err and "mftui list" in err and "mftui --help" in err


def test_output_that_cannot_be_written_is_no_traceback(config_file: Path) -> None:
    """stdout a pipe nobody reads (``| head`` gone) or a full disk (/dev/full): an exit code, no traceback."""
    assert mftui("--config", str(config_file), "backup", "--name", "one").returncode == 0
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before mftui writes a byte
    try:
        for args in (["list"], ["list", "--json"], ["inspect", "nope.zip", "--json"]):
            gone = subprocess.run([sys.executable, "-m", "mftui", "--config", str(config_file), *args],
                                  stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
            assert gone.returncode == 1 and gone.stderr.count("Traceback") == 0, gone.stderr
            assert "Exception ignored" not in gone.stderr and "Broken pipe" not in gone.stderr, gone.stderr
    finally:
        os.close(write_end)
    if not Path("/dev/full").exists():  # pragma: no cover - not Linux
        return
    with open("/dev/full", "w") as full:
        for args in (["list"], ["list", "--json"]):
            proc = subprocess.run([sys.executable, "-m", "mftui", "--config", str(config_file), *args],
                                  stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
            assert proc.returncode == 1 and "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
            assert proc.stderr == ("mftui: cannot write the output: no space left on device (free some space on "
                                   "that filesystem and try again)\n"), proc.stderr


def test_a_closed_stdout_or_stderr_is_no_traceback(config_file: Path, tmp_path: Path) -> None:
    """``mftui list >&-`` or ``2>&-`` in a careless script: the other stream stays clean and the code right."""

    def closed(fd: int, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["sh", "-c", f'exec "$0" "$@" {fd}>&-', sys.executable, "-m", "mftui",
                               "--config", str(config_file), *args], capture_output=True, text=True, timeout=60)

    listed = closed(1, "list")
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    missing = closed(1, "inspect", str(tmp_path / "nope.zip"))
    assert missing.returncode == 1 and missing.stderr.startswith("mftui: ") and missing.stderr.count("\n") == 1
    as_json = closed(2, "inspect", str(tmp_path / "nope.zip"), "--json")
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["ok"] is False  # nothing else on stdout


def test_json_is_valid_whatever_the_output_encoding(config_file: Path, instance_root: Path, tmp_path: Path) -> None:
    """stdout in ASCII or Latin-1 (PYTHONIOENCODING, an old locale): still JSON, with the exact strings."""
    def names(meta: dict[str, Any]) -> None:
        meta["name"] = "Réseau 日本 \u00a0" + ODD

    path = crafted(instance_root, tmp_path / "backups" / f"Réseau{EVIL}.zip", names)
    for encoding in ("ascii", "latin-1", "utf-8"):
        proc = subprocess.run([sys.executable, "-m", "mftui", "--config", str(config_file), "list", "--json"],
                              capture_output=True, timeout=60, env={**os.environ, "PYTHONIOENCODING": encoding})
        assert proc.returncode == 0, proc.stderr
        assert_safe(proc)
        rows = json.loads(proc.stdout.decode(encoding))
        assert [(row["path"], row.get("name")) for row in rows] == [(str(path), "Réseau 日本 \u00a0" + ODD)]


def test_inspect_and_list_apply_the_units_limits(settings: Settings, tmp_path: Path) -> None:
    """[limits] are this unit's: inspect and list use them like a restore does (not the built-in ones)."""
    made = create_backup(settings, "seventeen").path
    cfg = tmp_path / "limits.toml"
    cfg.write_text(f'[instance]\nroot = "{settings.instance_root}"\n[backups]\ndir = "{settings.backups_dir}"\n'
                   "[limits]\nmax_entries = 5\n")
    inspected = subprocess.run([sys.executable, "-m", "mftui", "--config", str(cfg), "inspect", str(made)],
                               capture_output=True, text=True, timeout=60)
    assert inspected.returncode == 1 and "5" in inspected.stderr, inspected.stderr
    listed = subprocess.run([sys.executable, "-m", "mftui", "--config", str(cfg), "list", "--json"],
                            capture_output=True, text=True, timeout=60)
    rows = json.loads(listed.stdout)
    assert listed.returncode == 0 and rows[0]["ok"] is False and "5" in rows[0]["problem"], rows
