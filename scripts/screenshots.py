"""Make ``screenshots/*.svg``: every screen and dialog of the TUI at 80x24.

    .venv/bin/python scripts/screenshots.py                  # as over SSH (full mode)
    .venv/bin/python scripts/screenshots.py --low-bandwidth  # as on a serial console

Each picture is reached the way a technician reaches it, by the same scenes
the snapshot tests use (``tests/tui/scenes.py``): a demo instance at a fixed
path, a frozen clock, keys pressed. Those SVGs stay in
``tests/tui/__snapshots__``; these are for the README.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from tui.helpers import SIZE, frozen_now  # noqa: E402
from tui.scenes import SCENES, Scene, scene_instance  # noqa: E402
from tui.scenes_diff import SCENES as DIFF_SCENES  # noqa: E402
from tui.scenes_diff import TITLES as DIFF_TITLES  # noqa: E402
from tui.scenes_history import SCENES as HISTORY_SCENES  # noqa: E402
from tui.scenes_history import TITLES as HISTORY_TITLES  # noqa: E402
from tui.scenes_transfer import SCENES as TRANSFER_SCENES  # noqa: E402
from tui.scenes_transfer import TITLES as TRANSFER_TITLES  # noqa: E402

from mftui.tui.app import MftuiApp  # noqa: E402

TITLES = {
    "administration": "Administration",
    "backup-form": "Backup/Restore: naming a backup",
    "backup-name-problem": "Backup/Restore: a name that cannot be used",
    "backup-result": "Backup/Restore: the backup is made",
    "download-zip": "Download Zip",
    "backup-failed": "An error, as the technician sees it",
    "upload-picker": "Upload Zip: the file picker",
    "restore-pane": "Backup/Restore: a backup chosen and checked",
    "restore-damaged": "Backup/Restore: a damaged backup",
    "restore-confirm": "The restore confirmation",
    "restore-confirm-other-unit": "The restore confirmation: a backup from another unit (clone, on trial)",
    "restore-triggered": "Restore triggered",
    "put-back-confirm": "Put back previous: the confirmation",
    "help": "Help (? or F1)",
    "passphrase": "Upload Zip: an encrypted backup asks for its passphrase",
    "passphrase-wrong": "Upload Zip: the passphrase is wrong",
    "protected-pane": "Backup/Restore: a signed, encrypted backup opened and checked",
    "trial-banner": "Administration: a restore on trial (k keep, p put back now)",
}
# The Backups screen, History, What changed and the console transfers keep their scenes beside their tests.
SCENES = {**SCENES, **HISTORY_SCENES, **DIFF_SCENES, **TRANSFER_SCENES}
TITLES |= HISTORY_TITLES | DIFF_TITLES | TRANSFER_TITLES
# The same scenes on the consoles users have: (scene, size, ascii) -> file name suffix.
CONSOLES = [
    ("administration", (60, 20), False, "60x20"),
    ("restore-pane", (60, 20), False, "60x20"),
    ("restore-confirm-other-unit", (60, 20), False, "60x20"),
    ("upload-picker", (60, 20), False, "60x20"),
    ("upload-picker", SIZE, True, "vt100"),
    ("restore-confirm", SIZE, True, "vt100"),
    ("download-zip", SIZE, True, "vt100"),
    ("backups", (60, 20), False, "60x20"),
    ("backups", SIZE, True, "vt100"),
    ("diff-file", (60, 20), False, "60x20"),
]


async def shoot(
    name: str,
    scene: Scene,
    low_bandwidth: bool,
    out_dir: Path,
    size: tuple[int, int] = SIZE,
    ascii_only: bool = False,
    suffix: str = "",
) -> Path:
    saved = {key: os.environ.get(key) for key in [*scene.env, "SSH_CONNECTION"]}
    os.environ.pop("SSH_CONNECTION", None)
    os.environ.update(scene.env)
    try:
        with scene_instance() as settings:
            settings = scene.setup(settings)
            app = MftuiApp(settings, low_bandwidth=low_bandwidth, now=frozen_now, ascii_only=ascii_only)
            async with app.run_test(size=size) as pilot:
                await scene.run_before(pilot)
                path = out_dir / f"{name}{'-' + suffix if suffix else ''}.svg"
                title = f"mftui: {TITLES[name]}" + (f" ({suffix})" if suffix else "")
                path.write_text(app.export_screenshot(title=title), encoding="utf-8")
                return path
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--low-bandwidth", action="store_true", help="the serial-console look (ANSI colours)")
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots", help="folder for the SVGs")
    parser.add_argument("names", nargs="*", help=f"only these ({', '.join(SCENES)})")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names or SCENES:
        path = asyncio.run(shoot(name, SCENES[name], args.low_bandwidth, args.out))
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    for name, size, ascii_only, suffix in CONSOLES if not args.names else []:
        # vt100 pictures are as a serial console draws them: low-bandwidth and ASCII.
        low = args.low_bandwidth or ascii_only
        path = asyncio.run(shoot(name, SCENES[name], low, args.out, size, ascii_only, suffix))
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
