"""No unrestorable backup: the backup refuses, by name, whatever its restore would refuse.

One grammar (archive/paths.py) serves both: what the writer accepts, the
strict validator accepts, and the other way round.
"""

from __future__ import annotations

import os
import random
import re
import stat
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from mftui.archive import paths
from mftui.archive.reader import verify
from mftui.archive.writer import create_backup
from mftui.errors import BackupError
from mftui.restore import restore_backup
from mftui.settings import Budgets, Settings


def backups(settings: Settings) -> list[Path]:
    return sorted(settings.backups_dir.glob("*.zip")) if settings.backups_dir.is_dir() else []


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("flows/a|b.json", r"has the character '\|' \(U\+007C\)"),
        ("hub/x:y.json", r"has a ':' in its name"),
        ("hub/bell\x07.json", r"control character"),
        ("hub/tab\there.json", r"control character"),
        ("hub/zero\u200bwidth.json", r"control character"),  # a format character (Cf): invisible
        ("hub/back\\slash.json", r"backslash"),
        ("hub/ trailing.json", r"starts or ends with a space"),
        ("hub/star*.json", r"has the character '\*'"),
        ("hub/quote\".json", r"has the character '\"'"),
        ("hub/" + "/".join(["y" * 250] * 5), r"has a name longer than 1017 bytes"),  # zip entry names: 1024
    ],
)
def test_a_name_the_restore_refuses_is_refused_by_the_backup(settings: Settings, name: str, why: str) -> None:
    target = settings.instance_root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        target.write_text("{}")
    except OSError as exc:  # pragma: no cover - a filesystem that cannot hold the name at all
        pytest.skip(f"this filesystem cannot hold {name!r}: {exc}")
    with pytest.raises(BackupError) as err:
        create_backup(settings, "bad-name")
    text = str(err.value)
    assert paths.show(name) in text
    assert re.search(why, text), text
    assert "a restore would refuse" in text and "Rename each, or add it to [instance] exclude" in text
    assert backups(settings) == [] and not any(settings.backups_dir.glob(".partial-*"))
    assert paths.config_path_problem(name) is not None  # the very rule the restore applies


def test_a_refused_character_is_shown_escaped_once(settings: Settings, tmp_path: Path) -> None:
    """NBSP reads '\\xa0' (as show writes it), not '\\\\xa0' (the repr of that)."""
    cfg = tmp_path / "nbsp.toml"
    cfg.write_text(f'[instance]\nroot = "{settings.instance_root}"\n[backups]\ndir = "{settings.backups_dir}"\n')
    (settings.instance_root / "flows" / "a\u00a0b.json").write_text("{}")
    proc = subprocess.run([sys.executable, "-m", "mftui", "--config", str(cfg), "backup"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1
    assert "flows/a\\xa0b.json has the character '\\xa0' (U+00A0) in its name" in proc.stderr, proc.stderr


def test_the_message_lists_several_names_and_counts_the_rest(settings: Settings) -> None:
    for i in range(7):
        (settings.instance_root / "flows" / f"f{i}|x.json").write_text("{}")
    with pytest.raises(BackupError, match=r"f0\|x\.json .*f4\|x\.json .*; and 2 more\. Rename each"):
        create_backup(settings, "many-bad")


def test_an_excluded_bad_name_does_not_stop_the_backup(settings: Settings) -> None:
    (settings.instance_root / "flows" / "a|b.json").write_text("{}")
    settings = Settings(**{**settings.__dict__, "exclude": (*settings.exclude, "**/*|*")})
    made = create_backup(settings, "excluded")
    assert "flows/a|b.json" not in {f.path for f in verify(made.path).files}


def test_names_that_differ_only_in_case_are_refused(settings: Settings) -> None:
    (settings.instance_root / "hub" / "Hub.json").write_text("{}")
    with pytest.raises(BackupError, match=r"hub/Hub\.json and hub/hub\.json differ only in upper and lower case"):
        create_backup(settings, "case")


def test_names_that_differ_only_in_unicode_normalisation_are_refused(settings: Settings) -> None:
    nfc = unicodedata.normalize("NFC", "réseau.json")
    nfd = unicodedata.normalize("NFD", "réseau.json")
    (settings.instance_root / "network" / nfc).write_text("{}")
    (settings.instance_root / "network" / nfd).write_text("{}")
    with pytest.raises(BackupError, match=r"differ only in upper and lower case or in accents"):
        create_backup(settings, "nfd")


def test_a_file_that_is_also_a_folder_ignoring_case_is_refused(settings: Settings) -> None:
    (settings.instance_root / "Certs").write_text("a file")
    with pytest.raises(BackupError, match=r"Certs is both a file and the folder of certs/"):
        create_backup(settings, "file-folder")


def test_too_many_files_for_the_restore_budget_is_refused(settings: Settings) -> None:
    count = sum(1 for p in settings.instance_root.rglob("*") if p.is_file())
    tight = Settings(**{**settings.__dict__, "budgets": Budgets(max_entries=5)})
    with pytest.raises(BackupError, match=r"it has \d+ files, and a restore accepts at most 5 \(\[limits\]"):
        create_backup(tight, "budget")
    assert count > 5
    big = Settings(**{**settings.__dict__, "budgets": Budgets(max_file_bytes=100)})
    with pytest.raises(BackupError, match=r"and a restore accepts files of at most 100 bytes"):
        create_backup(big, "budget")


def test_setuid_and_sticky_bits_are_not_carried_into_the_backup(settings: Settings) -> None:
    """A restore refuses them; the backup keeps the permission bits only, so it restores."""
    script = settings.instance_root / "services" / "hook.sh"
    script.write_text("#!/bin/sh\n")
    os.chmod(script, 0o4755)
    os.chmod(settings.instance_root / "flows" / "flows.json", 0o1644)
    made = create_backup(settings, "setuid")
    entry = next(f for f in verify(made.path).files if f.path == "services/hook.sh")
    assert entry.mode == 0o755
    restore_backup(settings, made.path)
    assert stat.S_IMODE(script.stat().st_mode) == 0o755


def test_every_name_the_backup_accepts_restores(settings: Settings) -> None:
    """Unusual but valid names go through backup, the strict checks and a restore unchanged."""
    names = ["Réseau/données.json", "x/(1)/[2]/{3}/~#%,=.json", ".hidden/file", "a b/c-d_e.f@g+h.json",
             "日本/設定.json", "deep/" * 30 + "leaf.json", "n/" + "y" * 255]
    for name in names:
        p = settings.instance_root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(name)
    made = create_backup(settings, "odd-names")
    for name in names:
        (settings.instance_root / name).write_text("changed")
    restore_backup(settings, made.path)
    for name in names:
        assert (settings.instance_root / name).read_text() == name


def test_the_grammar_fast_path_agrees_with_the_rules() -> None:
    """config_path_problem's regex shortcut answers None only where the full rules do."""
    namespace: dict[str, object] = {"__name__": "mftui.archive.paths_without_shortcut", "__package__": "mftui.archive"}
    original = Path(paths.__file__).read_text()
    # The shortcut is turned off by rewriting its source: if it is reformatted, this test must say so, not pass.
    assert original.count("and _PLAIN.match(path)") == 1, "the fast path in archive/paths.py changed: update this"
    source = original.replace("and _PLAIN.match(path)", "and False")
    exec(compile(source, "paths_without_shortcut", "exec"), namespace)
    slow = namespace["config_path_problem"]
    rnd = random.Random(5)
    alphabet = "ab.. //:\\-_~#[]()\x00\x01\t é"
    samples = ["a/" * 31 + "a", "a/" * 32 + "a", "x" * 255, "x" * 256, ".hidden/f", "a/./b", "a/../b", "...",
               "a/.../b", " a", "a ", "a /b", "a/ b", "a//b", "/a", "a/"]
    samples += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 10))) for _ in range(30000)]
    for s in samples:
        assert paths.config_path_problem(s) == slow(s), repr(s)  # type: ignore[operator]


def test_a_restore_onto_a_unit_holding_a_bad_name_keeps_the_previous_tree_as_its_safety_copy(
    settings: Settings,
) -> None:
    """The safety archive would be unrestorable: the restore goes on, and the previous tree is the safety copy."""
    good = create_backup(settings, "good").path
    odd = settings.instance_root / "flows" / "a|b.json"
    odd.write_text("live only")
    result = restore_backup(settings, good)
    assert result.safety_archive is None and result.safety_backup == result.previous
    assert (result.previous / "flows" / "a|b.json").read_text() == "live only"
    assert not odd.exists()
    assert [p for p in backups(settings) if p.name.startswith("pre-restore")] == []
