"""Settings: lookup order, the embedded demo, and one clear message per mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mftui.errors import SettingsError
from mftui.settings import MIB, load_settings, parse_settings_file, user_config_file


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_no_settings_file_gives_the_embedded_demo(isolated_home: Path) -> None:
    s = load_settings()
    assert s.demo and s.source is None
    assert s.instance_root.is_relative_to(isolated_home)
    assert (s.instance_root / "instance.json").is_file()
    assert s.backups_dir.parent == s.instance_root.parent
    assert s.reboot_backend == "demo"


def test_explicit_config_wins_over_env_and_user_file(instance_root: Path, tmp_path: Path, monkeypatch) -> None:
    a = write(tmp_path / "a.toml", f'[instance]\nroot = "{instance_root}"\n[backups]\ndir = "{tmp_path}/A"\n')
    b = write(tmp_path / "b.toml", f'[instance]\nroot = "{instance_root}"\n[backups]\ndir = "{tmp_path}/B"\n')
    user = user_config_file()
    user.parent.mkdir(parents=True)
    write(user, f'[instance]\nroot = "{instance_root}"\n[backups]\ndir = "{tmp_path}/U"\n')
    assert load_settings().backups_dir == tmp_path / "U"
    monkeypatch.setenv("MFTUI_CONFIG", str(b))
    assert load_settings().backups_dir == tmp_path / "B"
    assert load_settings(a).backups_dir == tmp_path / "A"


def test_missing_config_path_is_a_settings_error(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")
    with pytest.raises(SettingsError, match="is a folder, not a settings file"):
        load_settings(tmp_path)
    monkeypatch.setenv("MFTUI_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(SettingsError, match="MFTUI_CONFIG"):
        load_settings()


@pytest.mark.parametrize(
    ("body", "key", "words"),
    [
        ("[instance\nroot=1", "", "not valid TOML"),
        ('[instance]\nroot = "{root}"\ncolour = "red"\n', "instance.colour", "unknown key"),
        ('[instanse]\nroot = "{root}"\n', "instanse", "unknown section"),
        ("[instance]\nroot = 42\n", "instance.root", "must be a string"),
        ("[backups]\ndir = \"/tmp\"\n", "instance.root", "missing"),
        ('[instance]\nroot = "{root}/nothere"\n', "instance.root", "does not exist"),
        ('[instance]\nroot = "{root}"\n[reboot]\nbackend = "reboot-now"\n', "reboot.backend", "not one of"),
        ('[instance]\nroot = "{root}"\n[reboot]\nbackend = "command"\n', "reboot.command", "required"),
        ('[instance]\nroot = "{root}"\n[reboot]\ncommand = "reboot"\n', "reboot.command", "must be a list"),
        ('[instance]\nroot = "{root}"\n[limits]\nmax_entries = 0\n', "limits.max_entries", "greater than zero"),
        ('[instance]\nroot = "{root}"\n[limits]\nmax_entries = true\n', "limits.max_entries", "whole number"),
        ('[instance]\nroot = "{root}"\nexclude = ["logs/**", ""]\n', "instance.exclude", "non-empty strings"),
        ('[instance]\nroot = "{root}"\n[backups]\ndir = "{root}/backups"\n', "backups.dir", "inside the instance"),
        # Settings that would back up nothing, or put backups where mftui deletes things.
        ('[instance]\nroot = ""\n', "instance.root", "empty"),
        ('[instance]\nroot = "{root}"\ninclude = []\n', "instance.include", "backs up nothing"),
        ('[instance]\nroot = "{root}"\nexclude = ["**"]\n', "instance.exclude", "leaves out everything"),
        ('[instance]\nroot = "{root}"\ninclude = ["../**"]\n', "instance.include", "outside the instance"),
        ('[instance]\nroot = "{root}"\ninclude = ["/etc/**"]\n', "instance.include", "outside the instance"),
        ('[instance]\nroot = "{root}"\n[backups]\ndir = "{root}/../.mftui-mobiusflow"\n', "backups.dir",
         "state folder"),
        ('[instance]\nroot = "{root}"\n[backups]\ndir = "{root}/../.mftui-mobiusflow/b"\n', "backups.dir",
         "state folder"),
        ('[instance]\nroot = "{root}"\nstate_dir = "{root}/state"\n', "instance.state_dir", "inside the instance"),
        ('[instance]\nroot = "{root}"\nstate_dir = "{root}/.."\n', "instance.state_dir", "holds the instance"),
    ],
)
def test_each_mistake_names_file_and_key(tmp_path: Path, instance_root: Path, body: str, key: str, words: str) -> None:
    path = write(tmp_path / "bad.toml", body.replace("{root}", str(instance_root)))
    with pytest.raises(SettingsError) as err:
        parse_settings_file(path)
    message = str(err.value)
    assert str(path) in message
    assert key in message
    assert words in message


def test_full_settings_file_is_read(tmp_path: Path, instance_root: Path) -> None:
    path = write(
        tmp_path / "full.toml",
        f"""
[instance]
root = "{instance_root}"
exclude = ["logs/**"]
identity = ["network/**"]
[instance.components]
everything = ["**"]
[backups]
dir = "rel-backups"
[reboot]
backend = "systemd"
unit = "mobiusflow.service"
[limits]
max_entries = 10
max_file_mib = 2
max_total_mib = 3
""",
    )
    s = parse_settings_file(path)
    assert s.backups_dir == tmp_path / "rel-backups"  # relative to the settings file
    assert s.exclude == ("logs/**",)
    assert s.components == {"everything": ("**",)}
    assert (s.reboot_backend, s.reboot_unit) == ("systemd", "mobiusflow.service")
    assert (s.budgets.max_entries, s.budgets.max_file_bytes, s.budgets.max_total_bytes) == (10, 2 * MIB, 3 * MIB)
    assert s.state_dir.parent == instance_root.parent


def test_cli_settings_error_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.toml", "[instance]\nroot = 42\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mftui", "--config", str(bad), "list"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "instance.root" in proc.stderr and "Traceback" not in proc.stderr


def test_state_dir_setting(tmp_path: Path, instance_root: Path) -> None:
    path = write(tmp_path / "s.toml", f'[instance]\nroot = "{instance_root}"\nstate_dir = "state/here"\n')
    assert parse_settings_file(path).state_dir == tmp_path / "state" / "here"
    path = write(tmp_path / "d.toml", f'[instance]\nroot = "{instance_root}"\n')
    assert parse_settings_file(path).state_dir == instance_root.parent / ".mftui-mobiusflow"


def test_a_backup_of_nothing_is_refused(tmp_path: Path, instance_root: Path) -> None:
    """Settings that pass every check and still select no file: the backup says so instead of an empty zip."""
    from mftui.archive.writer import create_backup
    from mftui.errors import BackupError

    path = write(tmp_path / "s.toml", f'[instance]\nroot = "{instance_root}"\ninclude = ["nothing-here/**"]\n'
                                      f'[backups]\ndir = "{tmp_path / "b"}"\n')
    with pytest.raises(BackupError, match="no configuration file") as err:
        create_backup(parse_settings_file(path), "x")
    assert "[instance] include" in str(err.value)
    assert not list((tmp_path / "b").glob("*.zip")) if (tmp_path / "b").exists() else True


@pytest.mark.parametrize(
    ("trial", "key", "words"),
    [
        ('timeout = "10 mins"', "trial.timeout", "not a duration"),
        ('timeout = "-5m"', "trial.timeout", "not a duration"),
        ('timeout = "0s"', "trial.timeout", "longer than zero"),
        ("timeout = 600", "trial.timeout", "duration in quotes"),
        ('enabled = "yes"', "trial.enabled", "true or false"),
        ('checks = "ping"', "trial.checks", "list of commands"),
        ("checks = [[1, 2]]", "trial.checks[0]", "list of non-empty strings"),
        ('checks = [["ok"], "ping"]', "trial.checks[1]", "list of non-empty strings"),
        ('checks = [{ run = ["x"], timeout = "soon" }]', "trial.checks[0].timeout", "not a duration"),
        ('checks = [{ run = ["x"], every = "1s" }]', "trial.checks[0]", "unknown key"),
        ('colour = "red"', "trial.colour", "unknown key"),
    ],
)
def test_each_trial_mistake_names_the_key(tmp_path: Path, instance_root: Path, trial: str, key: str,
                                          words: str) -> None:
    path = write(tmp_path / "bad.toml", f'[instance]\nroot = "{instance_root}"\n[trial]\n{trial}\n')
    with pytest.raises(SettingsError) as err:
        parse_settings_file(path)
    message = str(err.value)
    assert str(path) in message and key in message and words in message


def test_trial_settings_are_read(tmp_path: Path, instance_root: Path) -> None:
    path = write(tmp_path / "t.toml", f'[instance]\nroot = "{instance_root}"\n[trial]\nenabled = false\n'
                                      'timeout = "5m"\ncheck_every = "2s"\ncheck_timeout = "3s"\n'
                                      'checks = [["true"], { run = ["ping", "-c1"], timeout = "1h" }]\n')
    t = parse_settings_file(path).trial
    assert (t.enabled, t.timeout, t.check_every) == (False, 300.0, 2.0)
    assert [(c.argv, c.timeout) for c in t.checks] == [(("true",), 3.0), (("ping", "-c1"), 3600.0)]
    default = parse_settings_file(write(tmp_path / "d.toml", f'[instance]\nroot = "{instance_root}"\n')).trial
    assert default.enabled and default.timeout == 600.0 and default.checks == ()


def test_cli_trial_settings_error_exits_2_with_json(tmp_path: Path, instance_root: Path) -> None:
    bad = write(tmp_path / "bad.toml", f'[instance]\nroot = "{instance_root}"\n[trial]\ntimeout = "10 mins"\n')
    proc = subprocess.run([sys.executable, "-m", "mftui", "--config", str(bad), "list", "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "trial.timeout" in proc.stderr and "Traceback" not in proc.stderr
    assert '"ok": false' in proc.stdout and "trial.timeout" in proc.stdout
