# Copyright: mftui maintainers
# MIT License (see the repository's LICENSE)
"""Run the mftui command line with --json on the unit, and fail with its one-sentence reason.

The modules never reimplement mftui: every answer comes from ``mftui ... --json``, whose
output is documented in docs/JSON.md (one JSON value on stdout in every outcome).
"""

from __future__ import annotations

import json
import os
import shlex

# The options every module has: which mftui to run, and which settings file it reads.
COMMON_ARGS = dict(
    command=dict(type="str", default="mftui"),
    config=dict(type="path"),
)


# The keys that open an encrypted backup (inspect, verify, restore): files on the host that runs mftui.
KEY_ARGS = dict(
    identity=dict(type="path"),
    passphrase_file=dict(type="path"),
)


def key_args(module):
    """``--identity FILE`` / ``--passphrase-file FILE`` for the commands that open a backup (never a secret
    itself on the command line: mftui reads the file)."""
    args = []
    if module.params.get("identity"):
        args += ["--identity", module.params["identity"]]
    if module.params.get("passphrase_file"):
        args += ["--passphrase-file", module.params["passphrase_file"]]
    return args


def mftui_argv(module, *args):
    """``[mftui, --config PATH, *args, --json]``; ``command`` may hold arguments (``sudo mftui``)."""
    argv = shlex.split(module.params["command"])
    if not argv:
        module.fail_json(msg="command is empty: give the mftui command line to run (mftui_command)")
    if os.sep not in argv[0]:
        found = module.get_bin_path(argv[0])
        if found is None:
            module.fail_json(msg=f"{argv[0]} is not installed on this unit (not on PATH): install mftui or set "
                                 "mftui_command to its path")
        argv[0] = found
    if module.params.get("config"):
        argv += ["--config", module.params["config"]]
    return argv + list(args) + ["--json"]


def reason_of(data):
    """mftui's sentence for a failure: ``reason``, or the reboot request's message after a committed restore."""
    if isinstance(data, dict):
        if data.get("reason"):
            return data["reason"]
        reboot = data.get("reboot")
        if isinstance(reboot, dict) and reboot.get("ok") is False:
            return f"the restore is committed, but the reboot request failed: {reboot.get('message', '')}"
    return "mftui failed and gave no reason"


def run_mftui(module, *args, **kwargs):
    """Run ``mftui *args --json``; return its JSON value. A failure (``"ok": false``) fails the task with
    mftui's reason, unless ``fail=False``: then the value is returned as it is."""
    fail = kwargs.pop("fail", True)
    argv = mftui_argv(module, *args)
    rc, out, err = module.run_command(argv)
    try:
        data = json.loads(out)
    except ValueError:
        module.fail_json(msg=f"{argv[0]} gave no JSON (exit code {rc}): {(err or out).strip()[-500:]}",
                         rc=rc, cmd=argv, stdout=out, stderr=err)
    if fail and (rc != 0 or (isinstance(data, dict) and data.get("ok") is False)):
        module.fail_json(msg=reason_of(data), rc=rc, cmd=argv, mftui=data, stderr=err)
    return data
