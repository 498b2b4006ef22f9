#!/usr/bin/python
# Copyright: mftui maintainers
# MIT License (see the repository's LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mftui_backup
short_description: Back up a unit's configuration with mftui
description:
  - Runs C(mftui backup --json) on the unit and returns the archive's path, its SHA-256 and what mftui
    says about it (docs/JSON.md in the mftui repository).
  - With O(if_changed=true), mftui makes no archive when the configuration is unchanged since the newest
    backup; the task is then not changed, so runs are idempotent.
  - Fails with mftui's one-sentence reason.
version_added: 0.1.0
author:
  - mftui maintainers
extends_documentation_fragment:
  - mftui.appliance.mftui
options:
  name:
    description:
      - The backup's name; mftui appends the date and time.
    type: str
    default: ""
  if_changed:
    description:
      - Make no archive when the configuration is unchanged since the newest backup (C(--if-changed)).
      - Needs an mftui with C(backup --if-changed); the result's RV(path) is then that newest backup.
    type: bool
    default: false
  scheduled:
    description:
      - Mark the backup as a scheduled one (C(--scheduled)), as a timer would.
    type: bool
    default: false
attributes:
  check_mode:
    support: partial
    details: In check mode nothing is run; the task says a backup would be made.
  diff_mode:
    support: none
notes:
  - The archive holds secrets; mftui writes it with mode 0600 in the unit's backups folder.
"""

EXAMPLES = r"""
- name: Back up the unit
  mftui.appliance.mftui_backup:
    name: nightly
  register: made

- name: Back up only when the configuration changed
  mftui.appliance.mftui_backup:
    name: nightly
    if_changed: true
    config: /etc/mftui/config.toml
"""

RETURN = r"""
made:
  description: Whether an archive was made (false with O(if_changed) when nothing changed).
  returned: success
  type: bool
path:
  description: The archive on the unit (the newest backup when none was made).
  returned: success
  type: str
  sample: /data/mftui/backups/nightly_2026-11-29T223352Z.zip
sha256:
  description: The archive's SHA-256, computed on the unit.
  returned: success
  type: str
archive_bytes:
  description: The archive's size in bytes.
  returned: success
  type: int
backup:
  description: What C(mftui backup --json) printed (docs/schemas/backup.json).
  returned: success
  type: dict
"""

import hashlib
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mftui.appliance.plugins.module_utils.mftui import COMMON_ARGS, run_mftui


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            COMMON_ARGS,
            name=dict(type="str", default=""),
            if_changed=dict(type="bool", default=False),
            scheduled=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    if module.check_mode:
        module.exit_json(changed=True, made=False, msg="check mode: a backup would be made (nothing was run)")
    args = ["backup"]
    if module.params["name"]:
        args += ["--name", module.params["name"]]
    if module.params["scheduled"]:
        args.append("--scheduled")
    if module.params["if_changed"]:
        args.append("--if-changed")
    data = run_mftui(module, *args)
    made = data.get("made", True) is not False  # an older mftui has no "made": it always makes one
    path = data.get("path")
    result = dict(changed=made, made=made, path=path, backup=data)
    if path and os.path.isfile(path):
        result["sha256"] = data.get("sha256") or sha256_of(path)  # an older mftui does not give it
        result["archive_bytes"] = os.path.getsize(path)
    if not made:
        result["msg"] = data.get("reason", "no archive was made")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
