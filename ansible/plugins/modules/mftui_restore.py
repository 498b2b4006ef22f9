#!/usr/bin/python
# Copyright: mftui maintainers
# MIT License (see the repository's LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mftui_restore
short_description: Restore a backup on a unit with mftui, on trial, and keep it
description:
  - O(action=restore) runs C(mftui restore FILE --yes --json) on the unit, as a trial (O(trial)) or not
    (O(no_trial)), and reports what changed, the trial's deadline and the reboot request.
  - In check mode it runs C(mftui inspect FILE --changes --json) instead and reports what the restore would
    change; nothing on the unit is touched.
  - O(action=keep) keeps the restore that is on trial (C(mftui keep --json); its health checks must pass).
    It fails when the trial was already put back (a failed health check, or its time ran out), so that a
    rollout stops there.
  - O(action=previous) puts back the configuration the last restore replaced (C(mftui restore --previous)).
  - Fails with mftui's one-sentence reason; a refused or failed restore leaves the live configuration as it was.
version_added: 0.1.0
author:
  - mftui maintainers
extends_documentation_fragment:
  - mftui.appliance.mftui
  - mftui.appliance.mftui.keys
options:
  action:
    description:
      - C(restore) a backup, C(keep) the restore on trial, or put the C(previous) configuration back.
    type: str
    choices: [restore, keep, previous]
    default: restore
  path:
    description:
      - The backup archive on the unit (for O(action=restore)).
    type: path
  trial:
    description:
      - The trial's length (C(--trial), e.g. C(10m)); put back unless kept by then. Default is the unit's
        C([trial]) settings (a trial of 10 minutes unless turned off there).
    type: str
  no_trial:
    description:
      - Not a trial (C(--no-trial)); it wins over O(trial). mftui refuses it when the restore changes the network
        configuration over SSH.
    type: bool
    default: false
  reboot:
    description:
      - Ask the unit's reboot service to reboot after the restore (false is C(--no-reboot)).
    type: bool
    default: true
  scope:
    description:
      - C(replace) takes everything from the backup (C(--take-identity)); C(clone) keeps this unit's identity
        (C(--keep-identity)). Default is mftui's choice (replace for a backup of this unit, clone for another's).
    type: str
    choices: [replace, clone]
  discard_previous:
    description:
      - When the disk is short of space, discard the configuration the last restore replaced (C(--discard-previous)).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: A restore is inspected (C(inspect --changes)), a keep looks at C(status); nothing is changed.
  diff_mode:
    support: full
    details: The files added, changed and removed.
notes:
  - mftui restores on trial by default. On a unit whose reboot is real, wait for it to come back
    (M(ansible.builtin.wait_for_connection)) before O(action=keep).
"""

EXAMPLES = r"""
- name: What would the restore change?
  mftui.appliance.mftui_restore:
    path: /tmp/nightly_2026-11-29T223352Z.zip
  check_mode: true
  register: would

- name: Restore on a 15-minute trial
  mftui.appliance.mftui_restore:
    path: /tmp/nightly_2026-11-29T223352Z.zip
    trial: 15m
  register: restored

- name: Keep it
  mftui.appliance.mftui_restore:
    action: keep
"""

RETURN = r"""
changes:
  description: What the restore changes (or would change, in check mode) (C(changes) in docs/JSON.md).
  returned: action=restore
  type: dict
trial:
  description: The trial's C(deadline) and C(timeout_seconds), or null when not a trial.
  returned: action=restore, not in check mode
  type: dict
reboot:
  description: The reboot request, C(requested) false, or C(requested) true with C(ok), C(backend), C(real)
    and C(message).
  returned: action=restore or previous, not in check mode
  type: dict
restore:
  description: What C(mftui restore --json) printed (docs/schemas/restore.json).
  returned: action=restore or previous, not in check mode
  type: dict
inspect:
  description: What C(mftui inspect --changes --json) printed.
  returned: action=restore in check mode
  type: dict
status:
  description: The trial state after O(action=keep) (docs/schemas/status.json).
  returned: action=keep
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mftui.appliance.plugins.module_utils.mftui import COMMON_ARGS, KEY_ARGS, key_args, run_mftui

PUT_BACK = ("reverting", "reverted", "revert-failed")


def diff_of(changes):
    lines = [f"{mark} {path}" for key, mark in (("added", "+"), ("changed", "~"), ("removed", "-"))
             for path in changes.get(key, [])]
    return dict(prepared="\n".join(lines) + "\n" if lines else "")


def changed_files(changes):
    return bool(changes.get("added") or changes.get("changed") or changes.get("removed"))


def restore_args(params):
    args = ["restore", params["path"], "--yes"]
    if params["no_trial"]:
        args.append("--no-trial")
    elif params["trial"]:
        args += ["--trial", params["trial"]]
    if not params["reboot"]:
        args.append("--no-reboot")
    if params["scope"] == "clone":
        args.append("--keep-identity")
    elif params["scope"] == "replace":
        args.append("--take-identity")
    if params["discard_previous"]:
        args.append("--discard-previous")
    return args


def restore(module):
    params = module.params
    if module.check_mode:
        data = run_mftui(module, "inspect", params["path"], "--changes", *key_args(module))
        scope = params["scope"] or data.get("default_scope")
        changes = data.get("scopes", {}).get(scope) or data.get("changes", {})
        result = dict(changed=changed_files(changes), changes=changes, scope=scope, inspect=data,
                      msg=f"check mode: what a restore of {data.get('name')} would change")
        if module._diff:
            result["diff"] = diff_of(changes)
        module.exit_json(**result)
    data = run_mftui(module, *restore_args(params), *key_args(module))
    result = dict(changed=True, changes=data.get("changes"), trial=data.get("trial"), reboot=data.get("reboot"),
                  scope=data.get("scope"), restore=data)
    if module._diff:
        result["diff"] = diff_of(data.get("changes") or {})
    module.exit_json(**result)


def keep(module):
    status = run_mftui(module, "status")
    state = status.get("state")
    if state in PUT_BACK:
        why = status.get("reason") or status.get("note")
        module.fail_json(msg=f"the trial of backup {status.get('backup')!r} was put back ({state}): {why}",
                         status=status)
    if state != "on-trial":
        module.exit_json(changed=False, status=status, msg=f"nothing is on trial ({state})")
    if module.check_mode:
        module.exit_json(changed=True, status=status, msg="check mode: the trial would be kept")
    module.exit_json(changed=True, status=run_mftui(module, "keep"))


def previous(module):
    if module.check_mode:
        rows = run_mftui(module, "list")
        prev = [row for row in rows if row.get("kind") == "previous"]
        if not prev:
            module.fail_json(msg="there is no previous configuration to go back to")
        module.exit_json(changed=True, previous=prev[0], msg="check mode: the previous configuration would be put back")
    args = ["restore", "--previous", "--yes"] + ([] if module.params["reboot"] else ["--no-reboot"])
    data = run_mftui(module, *args)
    module.exit_json(changed=True, changes=data.get("changes"), reboot=data.get("reboot"), restore=data)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            COMMON_ARGS,
            **KEY_ARGS,
            action=dict(type="str", default="restore", choices=["restore", "keep", "previous"]),
            path=dict(type="path"),
            trial=dict(type="str"),
            no_trial=dict(type="bool", default=False),
            reboot=dict(type="bool", default=True),
            scope=dict(type="str", choices=["replace", "clone"]),
            discard_previous=dict(type="bool", default=False),
        ),
        required_if=[("action", "restore", ("path",))],
        supports_check_mode=True,
    )
    {"restore": restore, "keep": keep, "previous": previous}[module.params["action"]](module)


if __name__ == "__main__":
    main()
