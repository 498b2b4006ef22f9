"""Know before you restore: what a backup would change in the live configuration."""

from __future__ import annotations

import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from ..archive.format import BackupInfo, FileEntry
from ..digest import sha256_of
from ..instance import Identity, Instance
from ..settings import Settings
from ..text import show

CHUNK = 1024 * 1024
KINDS = ("added", "changed", "removed")


class LiveFile(NamedTuple):
    """A configuration path in the live tree (a regular file, or something a restore replaces).

    A named tuple: a restore holds one per live file while it stages.
    """

    path: str
    size: int
    mode: int
    regular: bool  # False for a link or special file where a configuration file belongs


@dataclass(frozen=True)
class Changes:
    """What restoring a backup would do to the live configuration."""

    added: tuple[str, ...]  # configuration paths the backup brings that the unit lacks
    changed: tuple[str, ...]  # paths whose content or mode differ
    removed: tuple[str, ...]  # live configuration paths the backup does not have
    by_component: dict[str, dict[str, int]]  # component -> {"added": n, "changed": n, "removed": n}
    identity_changes: tuple[str, ...]  # identity files that would change, appear or vanish
    archive_instance_id: str
    live_instance_id: str
    archive_hostname: str = ""
    live_hostname: str = ""
    archive_product: str = ""  # "MobiusFlow 4.2.1"
    live_product: str = ""
    unchanged: int = 0
    extra_warnings: tuple[str, ...] = field(default=())
    scope: str = "replace"  # "replace" (everything from the backup) or "clone" (this unit's identity kept)
    network_changes: tuple[str, ...] = field(default=())  # paths of the network component that change

    @property
    def other_unit(self) -> bool:
        """The backup was taken on another unit (its hub id differs from the live one): a clone."""
        a, b = self.archive_instance_id.strip().lower(), self.live_instance_id.strip().lower()
        return bool(a) and a != b

    @property
    def total(self) -> int:
        return len(self.added) + len(self.changed) + len(self.removed)

    @property
    def warnings(self) -> list[str]:
        """Sentences for the technician, most serious first."""
        out = []
        if self.other_unit and self.scope == "clone":
            out.append(
                f"This backup comes from another unit (hub {show(self.archive_instance_id)}); it is restored as a "
                "clone: this unit keeps its own identity (hub id, hostname, network, licence, keys) and takes the "
                "rest of that unit's configuration."
            )
        elif self.other_unit:
            # Ids and hostnames come from the archive and the live files: shown escaped, never raw.
            live = f"hub {show(self.live_instance_id)}" if self.live_instance_id else "a unit with no hub id"
            host = f", host {show(self.archive_hostname)}" if self.archive_hostname else ""
            out.append(
                f"This backup comes from another unit (hub {show(self.archive_instance_id)}{host}); this unit is "
                f"{live}. Restoring it clones that unit's configuration here, identity included: two units "
                "with the same hub id on one network will conflict."
            )
        if self.identity_changes:
            shown = ", ".join(show(p) for p in self.identity_changes[:4]) + (
                f" and {len(self.identity_changes) - 4} more" if len(self.identity_changes) > 4 else ""
            )
            out.append(
                f"The restore changes the unit's identity ({shown}): its network address, hostname, licence "
                "or keys may change, and this SSH session may be cut when the unit restarts."
            )
        out.extend(self.extra_warnings)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "added": list(self.added),
            "changed": list(self.changed),
            "removed": list(self.removed),
            "unchanged": self.unchanged,
            "by_component": {k: dict(v) for k, v in sorted(self.by_component.items())},
            "identity_changes": list(self.identity_changes),
            "archive_instance_id": self.archive_instance_id,
            "live_instance_id": self.live_instance_id,
            "archive_hostname": self.archive_hostname,
            "live_hostname": self.live_hostname,
            "other_unit": self.other_unit,
            "scope": self.scope,
            "network_changes": list(self.network_changes),
            "warnings": self.warnings,
        }

    def describe(self) -> str:
        """Plain text for the command line, at most 80 columns wide."""
        lines = ["What the restore changes in the live configuration:"]
        if not self.total:
            lines.append(f"  nothing: all {self.unchanged} files already match the backup")
        else:
            lines.append(
                f"  {len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
                f"{self.unchanged} unchanged"
            )
            lines.append(f"  {'component':<12}{'added':>8}{'changed':>9}{'removed':>9}")
            for comp, counts in sorted(self.by_component.items()):
                counted = "".join(f"{counts.get(k, 0):>{w}}" for k, w in zip(KINDS, (8, 9, 9), strict=True))
                lines.append(f"  {show(comp):<12}{counted}")
            for kind, paths in (("added", self.added), ("changed", self.changed), ("removed", self.removed)):
                for path in paths[:20]:
                    lines.append(f"  {kind[0].upper()} {show(path, limit=None)}")
                if len(paths) > 20:
                    lines.append(f"    ... and {len(paths) - 20} more {kind}")
        for warning in self.warnings:
            lines.append("")
            lines.extend(_wrap("Warning: " + warning, 78))
        return "\n".join(lines)


def compute_changes(
    settings: Settings,
    info: BackupInfo,
    live: dict[str, LiveFile] | None = None,
    live_identity: Identity | None = None,
    root: Path | None = None,
    scope: str = "replace",
) -> Changes:
    """Compare a backup's manifest with a live tree (by default the instance root).

    Files of equal size are hashed to tell whether they differ; the rest are
    read only when needed. ``scope`` only labels the result: for clone, pass
    the manifest scope.scoped_info made (live identity files in place of the
    backup's). Reads at most the configuration, never logs or data.
    """
    instance = Instance(settings)
    root = root or settings.instance_root
    live = live_files(instance, root) if live is None else live
    live_identity = live_identity or instance.identity()
    manifest = {f.path: f for f in info.files}
    added = sorted(p for p in manifest if p not in live)
    removed = sorted(p for p in live if p not in manifest)
    changed = []
    for path, entry in sorted(manifest.items()):
        lf = live.get(path)
        if lf is not None and _differs(root, lf, entry):
            changed.append(path)
    by_component: dict[str, dict[str, int]] = {}
    for kind, paths in (("added", added), ("changed", changed), ("removed", removed)):
        for path in paths:
            counts = by_component.setdefault(instance.component_of(path), dict.fromkeys(KINDS, 0))
            counts[kind] += 1
    identity = sorted(p for p in (*added, *changed, *removed) if instance.is_identity(p))
    network = sorted(p for p in (*added, *changed, *removed) if instance.component_of(p) == "network")
    extra = []
    if (
        info.product_version
        and live_identity.version
        and info.product.casefold() == live_identity.product.casefold()
        and info.product_version != live_identity.version
    ):
        extra.append(
            f"The backup was taken on {info.product} {info.product_version}; this unit runs "
            f"{live_identity.version}. Check that this version can run that configuration."
        )
    return Changes(
        added=tuple(added),
        changed=tuple(changed),
        removed=tuple(removed),
        by_component=by_component,
        identity_changes=tuple(identity),
        archive_instance_id=info.instance_id,
        live_instance_id=live_identity.hub_id,
        archive_hostname=info.hostname,
        live_hostname=live_identity.hostname,
        archive_product=f"{info.product} {info.product_version}".strip(),
        live_product=f"{live_identity.product} {live_identity.version}".strip(),
        unchanged=len(manifest) - len(added) - len(changed),
        extra_warnings=tuple(extra),
        scope=scope,
        network_changes=tuple(network),
    )


def live_files(instance: Instance, root: Path) -> dict[str, LiveFile]:
    """Every configuration path under ``root``, like Instance.scan but never refusing.

    A link or special file where configuration belongs is listed (not
    regular): a restore replaces it, so it counts as changed or removed.
    """
    found: dict[str, LiveFile] = {}
    for rel, st in instance.walk(root):
        if not isinstance(st, OSError):  # an unreadable folder: nothing of it can be compared
            found[rel] = LiveFile(rel, st.st_size, stat.S_IMODE(st.st_mode), stat.S_ISREG(st.st_mode))
    return found


def _differs(root: Path, live: LiveFile, entry: FileEntry) -> bool:
    if not live.regular or live.size != entry.size or live.mode != entry.mode:
        return True
    return sha256_of(root / live.path) != entry.sha256


def _wrap(text: str, width: int) -> Iterable[str]:
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            yield line
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        yield line
