"""Text armour: a backup as numbered lines, captured by a terminal and pasted back (issue 14)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mftui.archive.writer import create_backup
from mftui.errors import CopyError
from mftui.settings import Settings
from mftui.transfer.armour import LAPTOP_ARMOUR, LAPTOP_ONE_LINER, crc, encode
from mftui.transfer.paste import receive_text


@pytest.fixture
def backup(settings: Settings) -> Path:
    return create_backup(settings, "site").path


def lines_of(path: Path) -> list[str]:
    return list(encode(path))


def incoming(settings: Settings) -> list[str]:
    return sorted(p.name for p in (settings.backups_dir / "incoming").iterdir())


def test_round_trip_lands_checked_in_incoming(settings: Settings, backup: Path) -> None:
    lines = lines_of(backup)
    assert lines[0].startswith(f"mftui-armour v1 name={backup.name} size={backup.stat().st_size} sha256=")
    assert lines[-1] == f"mftui-armour end lines={len(lines) - 2}"
    assert all(len(line) <= 76 for line in lines[1:])  # an 80-column terminal never wraps a data line
    received = receive_text(settings, [line + "\n" for line in lines])
    assert received.path == settings.backups_dir / "incoming" / backup.name
    assert received.path.read_bytes() == backup.read_bytes()
    assert received.complete and "every checksum matches" in received.summary
    assert received.path.stat().st_mode & 0o777 == 0o600
    assert received.path.parent.stat().st_mode & 0o777 == 0o700  # incoming/ is this unit's own
    again = receive_text(settings, lines)  # never over the first: a suffix
    assert again.path.name == backup.name.replace(".zip", "-2.zip")
    assert incoming(settings) == sorted([backup.name, again.path.name])


def test_crlf_prompt_noise_blank_lines_and_junk_between_lines(settings: Settings, backup: Path) -> None:
    lines = lines_of(backup)
    paste = ["user@unit:~$ mftui send --text x.zip\r\n", "\r\n", "user@unit:~$ " + lines[0] + "\r\n"]
    for i, line in enumerate(lines[1:]):
        paste.append(line + "  \r\n")
        if i % 7 == 3:
            paste += ["\r\n", "[  812.113] usb 1-1: new high-speed USB device\r\n", "   \r\n"]
    paste.append("user@unit:~$ \r\n")
    received = receive_text(settings, paste)
    assert received.path.read_bytes() == backup.read_bytes()


@pytest.mark.parametrize("width", [80, 40, 33])
def test_lines_wrapped_by_a_narrow_terminal(settings: Settings, backup: Path, width: int) -> None:
    """A terminal narrower than the lines breaks each in two or three; a copy may drop a blank at the break."""
    paste: list[str] = []
    for n, line in enumerate(lines_of(backup)):
        parts = [line[i:i + width] for i in range(0, len(line), width)]
        if n % 2:
            parts = [p.rstrip() for p in parts]  # a copy from the screen drops trailing blanks
        paste += parts
    received = receive_text(settings, paste)
    assert received.path.read_bytes() == backup.read_bytes()


def test_a_corrupted_line_is_named_and_nothing_is_kept(settings: Settings, backup: Path) -> None:
    lines = lines_of(backup)
    number, data, check = lines[7].split(" ")
    swapped = data[:10] + ("B" if data[10] != "B" else "C") + data[11:]
    lines[7] = f"{number} {swapped} {check}"
    with pytest.raises(CopyError, match=r"^line 7 is damaged \(its checksum does not match\)"):
        receive_text(settings, lines)
    assert incoming(settings) == []  # not even the private folder


def test_a_line_with_a_character_no_base64_has_is_named(settings: Settings, backup: Path) -> None:
    lines = lines_of(backup)
    lines[4] = lines[4][:20] + "!" + lines[4][21:]
    with pytest.raises(CopyError, match=r"^line 4 is damaged"):
        receive_text(settings, lines)


def test_a_missing_line_is_named(settings: Settings, backup: Path) -> None:
    lines = lines_of(backup)
    del lines[12]
    with pytest.raises(CopyError, match=r"^line 12 is missing \(line 13 came next\)"):
        receive_text(settings, lines)
    assert incoming(settings) == []


def test_the_last_line_missing_is_named(settings: Settings, backup: Path) -> None:
    lines = lines_of(backup)
    count = len(lines) - 2
    del lines[-2]
    with pytest.raises(CopyError, match=rf"^line {count} is missing \(the end line came after line {count - 1}\)"):
        receive_text(settings, lines)


def test_a_paste_cut_short_says_where_it_stopped(settings: Settings, backup: Path) -> None:
    lines = lines_of(backup)[:30]
    with pytest.raises(CopyError, match=rf"^the paste ended after line 29 of {len(lines_of(backup)) - 2}"):
        receive_text(settings, lines)
    with pytest.raises(CopyError, match="no mftui-armour header line was found"):
        receive_text(settings, ["hello", "world"])


def test_it_stops_at_the_end_line(settings: Settings, backup: Path) -> None:
    lines = lines_of(backup)
    consumed: list[str] = []

    def paste() -> object:
        for line in [*lines, "this is typed after the paste", "and must stay unread"]:
            consumed.append(line)
            yield line

    receive_text(settings, paste())  # type: ignore[arg-type]
    assert consumed == lines


def test_a_whole_file_that_is_not_the_one_announced_is_refused(settings: Settings, backup: Path) -> None:
    lines = lines_of(backup)
    header = lines[0].split(" ")
    header[4] = "sha256=" + "0" * 64
    lines[0] = " ".join(header)
    with pytest.raises(CopyError, match="does not match the size and SHA-256 of its header"):
        receive_text(settings, lines)
    assert incoming(settings) == []


def test_a_file_that_is_no_backup_is_refused_after_the_transfer(settings: Settings, tmp_path: Path) -> None:
    fake = tmp_path / "fake_2026-11-05T101500Z.zip"
    fake.write_bytes(os.urandom(5000))
    with pytest.raises(CopyError, match=r"^fake_2026-11-05T101500Z.zip arrived but is refused, and was not kept: "
                                        r".*not a readable zip archive"):
        receive_text(settings, lines_of(fake))
    assert incoming(settings) == []


def test_a_header_name_that_is_a_path_is_refused(settings: Settings, backup: Path, tmp_path: Path) -> None:
    evil = tmp_path / "evil"
    evil.mkdir()
    lines = lines_of(backup)
    lines[0] = lines[0].replace(f"name={backup.name}", "name=../../evil/x.zip")
    with pytest.raises(CopyError, match="not a backup's name"):
        receive_text(settings, lines)
    assert list(evil.iterdir()) == [] and incoming(settings) == []


def test_the_checksum_covers_the_line_number() -> None:
    assert crc(1, "QUJD") != crc(2, "QUJD")


def test_the_laptop_one_liner_with_real_sed_and_base64(backup: Path, tmp_path: Path) -> None:
    """The documented command, run by a real shell, sed and base64 on a capture with noise and CRLF."""
    capture = tmp_path / "capture.txt"
    text = "login: tech\r\nuser@unit:~$ mftui send --text b.zip\r\n" + "".join(
        line + "\r\n" for line in lines_of(backup)) + "user@unit:~$ exit\r\n"
    capture.write_text(text)
    subprocess.run(["sh", "-c", LAPTOP_ONE_LINER], cwd=tmp_path, check=True, timeout=30)
    assert (tmp_path / "backup.zip").read_bytes() == backup.read_bytes()


def test_cli_send_text_then_receive_text(config_file: Path, settings: Settings, backup: Path) -> None:
    cmd = [sys.executable, "-m", "mftui", "--config", str(config_file)]
    sent = subprocess.run([*cmd, "send", "--text", str(backup)], capture_output=True, text=True, timeout=60)
    assert sent.returncode == 0, sent.stderr
    got = subprocess.run([*cmd, "receive", "--text", "--json"], input="noise\n" + sent.stdout.replace("\n", "\r\n"),
                         capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stderr
    import json

    import jsonschema

    schema = json.loads((Path(__file__).resolve().parent.parent / "docs/schemas/receive.json").read_text())
    data = json.loads(got.stdout)
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["ok"] is True and data["complete"] is True
    assert Path(data["path"]).read_bytes() == backup.read_bytes()
    bad = subprocess.run([*cmd, "receive", "--text", "--json"], input=sent.stdout.replace(" 00003 ", " ")[:-40],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["ok"] is False
    jsonschema.Draft202012Validator(schema).validate(json.loads(bad.stdout))
    assert bad.stderr.startswith("mftui: the paste ended after line")


def test_the_laptop_armour_script_makes_what_receive_takes(settings: Settings, backup: Path, tmp_path: Path) -> None:
    """docs/TRANSFER.md's script (for a backup on the laptop, to paste into receive --text), run by python3."""
    script = tmp_path / "armour.py"
    script.write_text(LAPTOP_ARMOUR)
    made = subprocess.run(["python3", str(script), str(backup)], capture_output=True, text=True, timeout=30,
                          check=True)
    assert made.stdout.splitlines() == lines_of(backup)
    assert receive_text(settings, made.stdout.splitlines()).path.read_bytes() == backup.read_bytes()


def test_the_documented_commands_are_the_tested_ones() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "TRANSFER.md").read_text()
    assert LAPTOP_ONE_LINER in doc
    assert LAPTOP_ARMOUR in doc


def test_an_encrypted_backup_is_received_partly_checked(config_file: Path, settings: Settings, tmp_path: Path) -> None:
    """Without its passphrase the files inside cannot be checked: received, and "complete": false says so."""
    import json

    secret = tmp_path / "passphrase"
    secret.write_text("correct horse battery staple\n")
    secret.chmod(0o600)
    cmd = [sys.executable, "-m", "mftui", "--config", str(config_file)]
    made = subprocess.run([*cmd, "backup", "--name", "sealed", "--encrypt", "passphrase", "--passphrase-file",
                           str(secret), "--json"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert made.returncode == 0, made.stderr
    sealed = Path(json.loads(made.stdout)["path"])
    received = receive_text(settings, lines_of(sealed))
    assert received.path.read_bytes() == sealed.read_bytes()
    assert received.complete is False
    assert received.summary.startswith("the public part is ok and the payload's SHA-256 matches; the files inside "
                                       "were not checked: this backup is encrypted with a passphrase")


def test_cli_receive_text_on_a_terminal_no_echo_and_ctrl_d(config_file: Path, settings: Settings,
                                                           backup: Path) -> None:
    """Typed into a real terminal: the paste is not echoed back; Ctrl+D after half a line ends it, once."""
    import json
    import select
    import termios
    import time

    cmd = [sys.executable, "-m", "mftui", "--config", str(config_file), "receive", "--text", "--json"]
    for paste, ending in ((list(lines_of(backup)), ""), (["00001 half a line"], "\x04\x04")):
        master, slave = os.openpty()
        try:
            proc = subprocess.Popen(cmd, stdin=slave, stdout=subprocess.PIPE, stderr=slave)
            echoed = b""
            end = time.monotonic() + 20
            while b"not echoed" not in echoed and b"Ctrl+D" not in echoed and time.monotonic() < end:
                if select.select([master], [], [], 0.1)[0]:
                    echoed += os.read(master, 4096)
            for line in paste:
                os.write(master, (line + "\r").encode())
            os.write(master, ending.encode())
            out, _ = proc.communicate(timeout=30)
            while select.select([master], [], [], 0.2)[0]:
                echoed += os.read(master, 65536)
            assert paste[-1].encode() not in echoed  # not sent back over the line
            assert termios.tcgetattr(slave)[3] & termios.ECHO  # and echo is back on
        finally:
            os.close(master)
            os.close(slave)
        result = json.loads(out)
        if ending:
            assert proc.returncode == 1
            assert result["reason"].startswith("no mftui-armour header line was found")
        else:
            assert proc.returncode == 0 and Path(result["path"]).read_bytes() == backup.read_bytes()
