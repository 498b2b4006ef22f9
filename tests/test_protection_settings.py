"""[protection] and [trust] settings: defaults, relative paths, and one sentence per mistake (exit code 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mftui.errors import SettingsError
from mftui.settings import parse_settings_file


def _settings(tmp_path: Path, root: Path, extra: str) -> Path:
    path = tmp_path / "mftui.toml"
    path.write_text(f'[instance]\nroot = "{root}"\n{extra}')
    return path


def test_defaults_change_nothing(instance_root: Path, tmp_path: Path) -> None:
    s = parse_settings_file(_settings(tmp_path, instance_root, ""))
    assert s.protection.encrypt == "off" and s.protection.sign_key is None
    assert not s.trust.require_signature and not s.trust.require_encryption


def test_paths_are_relative_to_the_settings_file(instance_root: Path, tmp_path: Path) -> None:
    s = parse_settings_file(_settings(tmp_path, instance_root, (
        '[protection]\nencrypt = "recipients"\nrecipients_file = "office.txt"\nsign_key = "keys/sign"\n'
        '[trust]\nallowed_signers = "signers"\nrequire_signature = true\nrequire_encryption = true\n')))
    assert s.protection.recipients_file == tmp_path / "office.txt"
    assert s.protection.sign_key == tmp_path / "keys" / "sign"
    assert s.trust.allowed_signers == tmp_path / "signers"
    assert s.trust.require_signature and s.trust.require_encryption


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        ('[protection]\nencrypt = "yes"\n', "protection.encrypt", "must be one of"),
        ('[protection]\nencrypt = "recipients"\n', "protection.recipients_file", "is needed"),
        ('[protection]\nsign_key = ""\n', "protection.sign_key", "must be a path"),
        ('[protection]\npassword = "x"\n', "protection.password", "unknown key"),
        ("[trust]\nrequire_signature = true\n", "trust.allowed_signers", "is needed"),
        ('[trust]\nrequire_encryption = "yes"\n', "trust.require_encryption", "true or false"),
    ],
)
def test_mistakes_name_the_key(instance_root: Path, tmp_path: Path, extra: str, key: str, words: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings_file(_settings(tmp_path, instance_root, extra))
    assert f": {key}: " in str(caught.value) and words in str(caught.value)
    assert caught.value.exit_code == 2
