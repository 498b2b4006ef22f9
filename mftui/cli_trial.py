"""The command line of trial restores and restore scope: ``keep``, ``status``, ``watch``,
``install-units``, and what ``restore`` decides and says about trials, clones and the lockout guard.

Kept apart from cli.py (its output helpers are used from there); exit codes
and ``--json`` as everywhere: one JSON object in every outcome.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, TextIO

from .errors import UsageError
from .settings import Settings
from .text import show
from .trial_settings import parse_duration

if TYPE_CHECKING:
    from .restore.transaction import RestorePlan

EXIT_OK = 0


def choose_scope(settings: Settings, args: argparse.Namespace) -> str:
    """--keep-identity (clone), --take-identity (replace), else the default for this backup."""
    from .restore.scope import CLONE, REPLACE, default_scope

    if args.keep_identity:
        return CLONE
    if args.take_identity:
        return REPLACE
    from .archive.reader import read_info

    return default_scope(settings, read_info(args.file, budgets=settings.budgets))


def choose_trial(settings: Settings, args: argparse.Namespace, scope: str) -> float | None:
    """Seconds of trial, or None. The lockout guard: a restore that changes the network configuration,
    run over SSH, is always a trial."""
    trial = settings.trial.timeout if settings.trial.enabled else None
    if args.trial:
        try:
            trial = parse_duration(args.trial)
        except ValueError as exc:
            raise UsageError(f"--trial: {exc}") from None
    if args.no_trial:
        trial = None
    network = lockout_risk(settings, args, scope)
    if network and trial is None:
        if args.no_trial:
            raise UsageError(
                f"this restore changes the network configuration ({', '.join(show(p) for p in network[:3])}) and "
                "you are connected over the network (SSH_CONNECTION is set): it must be a trial, so that the unit "
                "puts the current configuration back by itself if it cannot be reached; leave out --no-trial, or "
                "keep this unit's network with --keep-identity"
            )
        trial = settings.trial.timeout
    return trial


def lockout_risk(settings: Settings, args: argparse.Namespace, scope: str) -> tuple[str, ...]:
    """The network files the restore changes, when the technician is connected over SSH (else none)."""
    from .restore.trial import lockout_risk as risk

    if not risk(["?"]):
        return ()  # not over SSH: no need to read the archive
    from .restore import compare

    return risk(compare(settings, args.file, scope).network_changes)


def explain_plan(plan: RestorePlan, trial: float | None) -> str:
    """What the confirmation says about the mode, the trial and the lockout risk."""
    from .restore.scope import describe_scope
    from .restore.trial_record import human_duration

    lines = [f"Mode: {describe_scope(plan.scope)}."]
    if plan.scope != plan.default_scope:
        lines.append(f"(The default for this backup is {plan.default_scope}.)")
    from .restore.trial import lockout_risk as risk

    network = risk(plan.changes.network_changes)
    if network:
        lines.append(f"This restore changes the network configuration ({', '.join(network[:3])}) and you are "
                     "connected over SSH: the unit may not be reachable at this address after the reboot. It is "
                     "a trial, so it puts the current configuration back by itself unless you keep it.")
    if trial:
        lines.append(f"Trial: it is put back in {human_duration(trial)} unless you keep it (mftui keep).")
    else:
        lines.append("Not a trial: it is kept as soon as it is restored.")
    return "\n".join(lines)


def both_scopes(settings: Settings, info: Any, data: dict[str, Any]) -> str:
    """What a restore of ``info`` (a checked backup's) changes in each mode: ``data`` gets ``changes`` (the
    default mode's), ``default_scope`` and ``scopes``; the text for people is returned."""
    from .restore.scope import CLONE, REPLACE, default_scope, describe_scope
    from .restore.transaction import scoped_changes

    default = default_scope(settings, info)
    other = REPLACE if default == CLONE else CLONE
    changes = {scope: scoped_changes(settings, info, scope) for scope in (REPLACE, CLONE)}
    data["changes"] = changes[default].to_json()
    data["default_scope"] = default
    data["scopes"] = {scope: c.to_json() for scope, c in changes.items()}
    alt = changes[other]
    flag = "--take-identity" if other == REPLACE else "--keep-identity"
    identity = ", ".join(alt.identity_changes[:4]) or "none"
    return (f"Default mode: {describe_scope(default)}.\n{changes[default].describe()}\n\n"
            f"With {flag} ({other}): {len(alt.added)} added, {len(alt.changed)} changed, {len(alt.removed)} removed; "
            f"identity files changed: {identity}.")


def say_trial(settings: Settings, deadline: str, trial: float, out: TextIO) -> None:
    from .cli_output import _say
    from .restore.trial_record import human_duration

    watcher = ("run mftui watch now (the demo has no boot to start it)" if settings.reboot_backend == "demo"
               else "mftui watch puts it back in time: mftui-watch.service starts it at boot (if the unit does "
                    "not reboot, start it: systemctl start mftui-watch.service, or mftui watch)")
    _say(f"On trial: it is put back at {deadline} (in {human_duration(trial)}) unless you keep it: mftui keep. "
         f"{watcher[0].upper()}{watcher[1:]}.", out)


def cmd_keep(settings: Settings, args: argparse.Namespace) -> int:
    from .restore.trial import keep_trial

    status = keep_trial(settings)
    return _status_out(args, status.to_json(), status.describe())


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from .restore.trial import trial_status

    status = trial_status(settings)
    text = status.describe()
    for check in status.checks[-5:]:
        text += f"\n  {check['time']} {'ok  ' if check['ok'] else 'FAIL'} {check['check']}: {check['detail']}"
    return _status_out(args, status.to_json(), text)


def cmd_watch(settings: Settings, args: argparse.Namespace) -> int:
    from .cli_output import _say
    from .restore.trial import trial_status
    from .restore.watch import watch

    out = sys.stderr if args.json else sys.stdout

    def say(line: str) -> None:
        _say(f"mftui watch: {line}", out)
        out.flush()

    last = watch(settings, say)
    say(last)
    if args.json:
        _print({"ok": True, "said": last, **trial_status(settings).to_json()})
    return EXIT_OK


def cmd_install_units(settings: Settings, args: argparse.Namespace) -> int:
    from .cli_output import _say
    from .units import BACKUP_TIMER, check_calendar, install_units

    note = check_calendar(settings)  # an on_calendar systemd refuses: exit 2, nothing written
    written = install_units(args.dir, settings, product_unit=args.product_unit)
    if note:
        _say(f"mftui: {note}", sys.stderr)
    if args.json:
        _print({"ok": True, "written": [str(p) for p in written]})
    else:
        for path in written:
            _say(f"wrote {path}")
        timer = f" {BACKUP_TIMER}" if settings.schedule.enabled else ""
        _say("enable them with: systemctl daemon-reload && systemctl enable mftui-recover.service "
             f"mftui-watch.service{timer}")
    return EXIT_OK


def _status_out(args: argparse.Namespace, data: dict[str, Any], text: str) -> int:
    from .cli_output import _say

    if args.json:
        _print({"ok": True, **data})
    else:
        _say(text)
    return EXIT_OK


def _print(data: Any) -> None:
    from .cli_output import _print_json

    _print_json(data)
