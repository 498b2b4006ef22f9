#!/usr/bin/python
# Copyright: mftui maintainers
# MIT License (see the repository's LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mftui_info
short_description: What mftui says about a unit's backups, its trial state, or one backup
description:
  - Gathers, read-only, what C(mftui list --json), C(mftui status --json), C(mftui inspect FILE --json)
    (with O(changes=true), C(inspect --changes), which also says what a restore would change) and
    C(mftui verify FILE --json) say, as documented in docs/JSON.md of the mftui repository.
  - The same values are also set as the fact C(mftui) (C(hostvars[host].mftui)), so that a play can compare
    units.
  - Fails with mftui's one-sentence reason (a damaged archive fails O(gather=verify)).
version_added: 0.1.0
author:
  - mftui maintainers
extends_documentation_fragment:
  - mftui.appliance.mftui
  - mftui.appliance.mftui.keys
options:
  path:
    description:
      - A backup archive on the unit, for C(inspect) and C(verify).
    type: path
  changes:
    description:
      - With O(path), also say what a restore of it would change in the live configuration (C(inspect --changes)).
    type: bool
    default: false
  gather:
    description:
      - What to ask mftui. Default is C(list) and C(status), and C(inspect) when O(path) is given.
    type: list
    elements: str
    choices: [list, status, inspect, verify]
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: The unit's backups and trial state
  mftui.appliance.mftui_info:
  register: unit

- name: Is the unit on trial?
  ansible.builtin.debug:
    msg: "{{ unit.status.state }}"

- name: Check an archive with the controller's mftui
  mftui.appliance.mftui_info:
    path: backups/unit1/nightly_2026-11-29T223352Z.zip
    gather: [verify]
  delegate_to: localhost
"""

RETURN = r"""
backups:
  description: C(mftui list --json), newest first (docs/schemas/list.json).
  returned: when C(list) is gathered
  type: list
  elements: dict
status:
  description: C(mftui status --json), the trial state (docs/schemas/status.json).
  returned: when C(status) is gathered
  type: dict
backup:
  description: C(mftui inspect FILE --json) (docs/schemas/inspect.json), with C(changes) when asked.
  returned: when C(inspect) is gathered
  type: dict
verified:
  description: C(mftui verify FILE --json) (docs/schemas/verify.json); C(complete) is false for an encrypted
    backup checked without its key.
  returned: when C(verify) is gathered
  type: dict
ansible_facts:
  description: The same values under C(mftui).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mftui.appliance.plugins.module_utils.mftui import COMMON_ARGS, KEY_ARGS, key_args, run_mftui


def main():
    module = AnsibleModule(
        argument_spec=dict(
            COMMON_ARGS,
            **KEY_ARGS,
            path=dict(type="path"),
            changes=dict(type="bool", default=False),
            gather=dict(type="list", elements="str", choices=["list", "status", "inspect", "verify"]),
        ),
        supports_check_mode=True,
    )
    path = module.params["path"]
    gather = module.params["gather"]
    if gather is None:
        gather = ["list", "status"] + (["inspect"] if path else [])
    if ("inspect" in gather or "verify" in gather) and not path:
        module.fail_json(msg="inspect and verify need the path of a backup archive")
    found = {}
    if "list" in gather:
        found["backups"] = run_mftui(module, "list")
    if "status" in gather:
        found["status"] = run_mftui(module, "status")
    if "inspect" in gather:
        found["backup"] = run_mftui(module, "inspect", path, *(["--changes"] if module.params["changes"] else []),
                                    *key_args(module))
    if "verify" in gather:
        found["verified"] = run_mftui(module, "verify", path, *key_args(module))
    module.exit_json(changed=False, ansible_facts=dict(mftui=found), **found)


if __name__ == "__main__":
    main()
