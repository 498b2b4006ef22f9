"""Settings: where the instance is, what its configuration is, where backups go.

Looked up in order: ``--config PATH``, ``$MFTUI_CONFIG``,
``/etc/mftui/config.toml``, the platformdirs user config file. When none
exists, the embedded demo instance is used (seeded under the user data dir).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from .errors import SettingsError
from .protection_settings import ProtectionSettings, TrustSettings, parse_protection, parse_trust
from .retention_settings import RetentionSettings, ScheduleSettings, parse_retention, parse_schedule
from .trial_settings import TrialSettings, parse_trial

APP_NAME = "mftui"
SYSTEM_CONFIG = Path("/etc/mftui/config.toml")
MIB = 1024 * 1024

# What a MobiusFlow-style instance's configuration is, by default.
DEFAULT_INCLUDE = ("**",)
DEFAULT_EXCLUDE = ("logs/**", "cache/**", "historian/**", "tmp/**", "**/*.tmp", "**/*.swp")
DEFAULT_COMPONENTS: dict[str, tuple[str, ...]] = {
    "hub": ("instance.json", "hub/**"),
    "services": ("services/**",),
    "profiles": ("profiles/**",),
    "flows": ("flows/**",),
    "users": ("users/**",),
    "certs": ("certs/**",),
    "licence": ("licence/**",),
    "network": ("network/**",),
}
DEFAULT_IDENTITY = (
    "instance.json",
    "network/**",
    "licence/**",
    "certs/*.key",
    "hub/psk.json",
)
REBOOT_BACKENDS = ("demo", "command", "systemd", "balena")


@dataclass(frozen=True)
class Budgets:
    """Limits a restore enforces on an archive (bytes actually inflated)."""

    max_entries: int = 50_000
    max_file_bytes: int = 512 * MIB
    max_total_bytes: int = 4096 * MIB


@dataclass(frozen=True)
class Settings:
    """Everything the core needs to know about one instance."""

    instance_root: Path
    backups_dir: Path
    source: Path | None = None  # the settings file, None for the embedded demo
    demo: bool = False
    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    components: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_COMPONENTS))
    identity: tuple[str, ...] = DEFAULT_IDENTITY
    reboot_backend: str = "demo"
    reboot_command: tuple[str, ...] = ()
    reboot_unit: str | None = None
    budgets: Budgets = Budgets()
    state_folder: Path | None = None  # [instance] state_dir; None: beside the instance root
    trial: TrialSettings = TrialSettings()  # [trial]: trial restores and their health checks
    protection: ProtectionSettings = ProtectionSettings()  # [protection]: encrypting and signing backups
    trust: TrustSettings = TrustSettings()  # [trust]: what a restore accepts
    retention: RetentionSettings = RetentionSettings()  # [retention]: which backups prune keeps
    schedule: ScheduleSettings = ScheduleSettings()  # [schedule]: when mftui-backup.timer runs

    @property
    def state_dir(self) -> Path:
        """Per-instance state (lock, journal, staging, previous tree, reboot log).

        By default it sits beside the instance root so that staging is on the
        same filesystem (the swap is a rename) and so that every mftui working
        on this instance, whatever its settings file, shares one lock.
        ``[instance] state_dir`` puts it elsewhere on the same filesystem
        (checked by the restore), e.g. where only root can write.
        """
        if self.state_folder is not None:
            return self.state_folder
        root = self.instance_root
        return root.parent / f".mftui-{root.name}"


def user_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def demo_home() -> Path:
    """Where the embedded demo lives: the platformdirs user data dir."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "demo"


def find_settings_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The settings file to use, or None for the embedded demo."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        if path.is_dir():
            raise SettingsError(f"{path} is a folder, not a settings file: give --config the path of the .toml file")
        if not path.is_file():
            raise SettingsError(f"settings file {path} does not exist: check the --config path")
        return path
    env = os.environ.get("MFTUI_CONFIG")
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise SettingsError(
                f"settings file {path} (from $MFTUI_CONFIG) does not exist: fix or unset MFTUI_CONFIG"
            )
        return path
    for path in (SYSTEM_CONFIG, user_config_file()):
        if path.is_file():
            return path
    return None


def load_settings(explicit: str | os.PathLike[str] | None = None, *, require_root: bool = True) -> Settings:
    """Find and read the settings; with none, seed and use the embedded demo.

    ``require_root=False`` lets a missing instance root through, so that
    recovery can run first: a restore cut between its two renames leaves no
    root until recovery puts one back. Call :func:`require_instance_root` after it.
    """
    path = find_settings_file(explicit)
    if path is None:
        home = demo_home()
        settings = Settings(instance_root=home / "instance", backups_dir=home / "backups", demo=True)
        if require_root:  # else seeded by require_instance_root, after recovery (never over a half-done restore)
            require_instance_root(settings)
        return settings
    return parse_settings_file(path, require_root=require_root)


def require_instance_root(settings: Settings) -> None:
    """Refuse settings whose instance root is not an existing folder (after recovery had its chance)."""
    root = settings.instance_root
    if settings.demo:
        from .demo import ensure_demo

        ensure_demo(root)
    if not root.is_dir():
        where = f"{settings.source}: instance.root: " if settings.source else ""
        raise SettingsError(f"{where}{root} does not exist or is not a folder; check [instance] root")


# --- parsing ----------------------------------------------------------------

_SCHEMA: dict[str, dict[str, type]] = {
    "instance": {"root": str, "state_dir": str, "include": list, "exclude": list, "identity": list,
                 "components": dict},
    "backups": {"dir": str},
    "reboot": {"backend": str, "command": list, "unit": str},
    "limits": {"max_entries": int, "max_file_mib": int, "max_total_mib": int},
    "trial": {},  # its keys are checked by trial_settings.parse_trial (booleans, durations, commands)
    "protection": {},  # and these by protection_settings
    "trust": {},
    "retention": {},  # checked by retention_settings (whole numbers of 1 or more)
    "schedule": {},
}
_TYPE_WORDS = {str: "a string", list: "a list", dict: "a table", int: "a whole number"}
EXAMPLE_ROOT = 'e.g. root = "/data/mobiusflow"'


class _File:
    """One settings file being read: its path (relative paths are relative to it) and its mistakes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, what: str) -> SettingsError:
        return SettingsError(f"{self.path}: {key}: {what}")

    def abs_path(self, value: str) -> Path:
        return _abs_path(self.path, value)

    def str_list(self, key: str, value: Any) -> tuple[str, ...]:
        if not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, "must be a list of non-empty strings")
        return tuple(value)


def parse_settings_file(path: Path, *, require_root: bool = True) -> Settings:
    """Read and check one settings file. Every problem names the file and the key.

    Each section has its reader below; the types of every key are checked
    first, from one table (_SCHEMA).
    """
    f = _File(path)
    data = _read_toml(path)
    _check_types(f, data)
    instance = data.get("instance", {})
    root = _root(f, instance, require_root)
    state_folder = _state_folder(f, instance, root)
    include, exclude = _globs(f, instance)
    backend, command = _reboot(f, data.get("reboot", {}))
    return Settings(
        instance_root=root,
        backups_dir=_backups_dir(f, data.get("backups", {}), root, state_folder),
        source=path,
        include=include,
        exclude=exclude,
        components=_components(f, instance),
        identity=f.str_list("instance.identity", instance.get("identity", list(DEFAULT_IDENTITY))),
        reboot_backend=backend,
        reboot_command=command,
        reboot_unit=data.get("reboot", {}).get("unit"),
        budgets=_budgets(f, data.get("limits", {})),
        state_folder=state_folder,
        trial=parse_trial(f.fail, data.get("trial", {})),
        protection=parse_protection(f.fail, f.abs_path, data.get("protection", {})),
        trust=parse_trust(f.fail, f.abs_path, data.get("trust", {})),
        retention=parse_retention(f.fail, data.get("retention", {})),
        schedule=parse_schedule(f.fail, data.get("schedule")),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc}); fix the file or point --config elsewhere") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot be read ({exc.strerror})") from None


def _check_types(f: _File, data: dict[str, Any]) -> None:
    """Every section and key known, and of its type."""
    for section, value in data.items():
        if section not in _SCHEMA:
            known = ", ".join(f"[{s}]" for s in _SCHEMA)
            raise f.fail(section, f"unknown section; the known ones are {known}")
        if not isinstance(value, dict):
            raise f.fail(section, "must be a table, e.g. [" + section + "]")
        for key, item in value.items():
            if section in ("trial", "protection", "trust", "retention", "schedule"):
                continue
            expected = _SCHEMA[section].get(key)
            if expected is None:
                raise f.fail(f"{section}.{key}", f"unknown key; [{section}] takes {', '.join(_SCHEMA[section])}")
            if isinstance(item, bool) or not isinstance(item, expected):
                raise f.fail(f"{section}.{key}", f"must be {_TYPE_WORDS[expected]}, not {type(item).__name__}")


def _root(f: _File, instance: dict[str, Any], require_root: bool) -> Path:
    if "root" not in instance:
        raise f.fail("instance.root", f"missing; say where the instance is, {EXAMPLE_ROOT}")
    if not instance["root"].strip():
        raise f.fail("instance.root", f"is empty; say where the instance is, {EXAMPLE_ROOT}")
    root = f.abs_path(instance["root"])
    if require_root and not root.is_dir():
        raise f.fail("instance.root", f"{root} does not exist or is not a folder")
    return root


def _state_folder(f: _File, instance: dict[str, Any], root: Path) -> Path | None:
    if not instance.get("state_dir"):
        return None
    state = f.abs_path(instance["state_dir"])
    if _inside(state, root):
        raise f.fail("instance.state_dir", f"{state} is inside the instance root; mftui's state lives outside "
                                           "the configuration, on the same disk")
    if _inside(root, state):
        raise f.fail("instance.state_dir", f"{state} holds the instance root; name a folder of mftui's own, "
                                           "e.g. /var/lib/mftui/mobiusflow on the same disk")
    return state


def _backups_dir(f: _File, backups: dict[str, Any], root: Path, state_folder: Path | None) -> Path:
    backups_dir = f.abs_path(backups["dir"]) if "dir" in backups else root.parent / "mftui-backups"
    state = state_folder or root.parent / f".mftui-{root.name}"
    if backups_dir.exists() and not backups_dir.is_dir():
        raise f.fail("backups.dir", f"{backups_dir} exists and is not a directory")
    if _inside(backups_dir, root):
        raise f.fail("backups.dir", f"{backups_dir} is inside the instance root; backups must live outside it")
    if _inside(backups_dir, state):
        raise f.fail("backups.dir", f"{backups_dir} is in mftui's state folder {state}, whose leftovers mftui "
                                    "removes; keep backups in a folder of their own")
    return backups_dir


def _globs(f: _File, instance: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """include and exclude, refused when they would back up nothing or point outside the instance."""
    include = f.str_list("instance.include", instance.get("include", list(DEFAULT_INCLUDE)))
    exclude = f.str_list("instance.exclude", instance.get("exclude", list(DEFAULT_EXCLUDE)))
    if not include:
        raise f.fail("instance.include", 'is empty, so a backup backs up nothing; e.g. include = ["**"]')
    for key, globs in (("instance.include", include), ("instance.exclude", exclude)):
        for glob in globs:
            if glob.startswith("/") or ".." in glob.split("/"):
                raise f.fail(key, f"{glob!r} points outside the instance: globs are relative to [instance] root, "
                                  'e.g. "flows/**"')
    everything = [g for g in exclude if g.strip("*/") == ""]
    if everything:
        raise f.fail("instance.exclude", f"{everything[0]!r} leaves out everything, so a backup backs up nothing")
    return include, exclude


def _components(f: _File, instance: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    if "components" not in instance:
        return dict(DEFAULT_COMPONENTS)
    components = {}
    for name, globs in instance["components"].items():
        if not isinstance(globs, list):
            raise f.fail(f"instance.components.{name}", "must be a list of globs")
        components[name] = f.str_list(f"instance.components.{name}", globs)
    return components


def _reboot(f: _File, reboot: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    backend = reboot.get("backend", "demo")
    if backend not in REBOOT_BACKENDS:
        raise f.fail("reboot.backend", f"{backend!r} is not one of {', '.join(REBOOT_BACKENDS)}")
    command = f.str_list("reboot.command", reboot.get("command", []))
    if backend == "command" and not command:
        raise f.fail("reboot.command", 'required for backend = "command", e.g. command = ["systemctl", "reboot"]')
    return backend, command


def _budgets(f: _File, limits: dict[str, int]) -> Budgets:
    for key, item in limits.items():
        if item <= 0:
            raise f.fail(f"limits.{key}", "must be greater than zero")
    defaults = Budgets()
    return Budgets(
        max_entries=limits.get("max_entries", defaults.max_entries),
        max_file_bytes=limits.get("max_file_mib", defaults.max_file_bytes // MIB) * MIB,
        max_total_bytes=limits.get("max_total_mib", defaults.max_total_bytes // MIB) * MIB,
    )


def _abs_path(settings_file: Path, value: str) -> Path:
    """Relative paths in a settings file are relative to that file."""
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = settings_file.parent / path
    return Path(os.path.abspath(path))


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True
