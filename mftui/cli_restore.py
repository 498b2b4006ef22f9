"""``mftui restore``: ask first (what changes, the mode, the trial, the lockout risk), restore, then reboot."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from .cli_output import ProgressBar, _print_json, _say, format_info
from .errors import UsageError
from .settings import Settings
from .text import show, show_path

EXIT_OK, EXIT_FAILED = 0, 1


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """Restore a backup (or the previous configuration), asking first unless --yes; then reboot.

    Exit 0: restored (and the reboot requested, unless --no-reboot). Exit 1:
    refused, cancelled, failed (the live configuration is unchanged), or
    restored but the reboot request failed ("restored": true in --json).
    Exit 2: no FILE, or no terminal to ask on and no --yes. With --json,
    a failure is ``{"ok": false, "restored": false, "reason": ...}`` (main prints it).
    """
    if args.previous and args.file is not None:
        raise UsageError("restore takes a backup FILE or --previous, not both")
    if not args.previous and args.file is None:
        raise UsageError("restore needs the backup FILE to restore, or --previous to put back what the last "
                         "restore replaced")
    if not args.yes and not sys.stdin.isatty():
        raise UsageError("restore asks for confirmation on the terminal and there is none: "
                         "add --yes to restore from a script")
    if args.previous and (args.trial or args.keep_identity or args.take_identity):
        raise UsageError("putting the previous configuration back is never a trial and has no scope: leave out "
                         "--trial, --keep-identity and --take-identity")
    if args.previous:
        return _restore(settings, args)
    from .cli_protect import opened, safety_protector

    # A protected backup is checked ([trust], signature) and its payload opened into a plain archive,
    # which everything below reads; what is reported names the file given.
    with opened(settings, args, args.file) as found:
        args.backup_file, args.file = args.file, found.plain
        args.protect = safety_protector(settings, found)
        return _restore(settings, args)


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from .cli_trial import choose_scope, choose_trial, say_trial
    from .restore import restore_backup, restore_previous

    # What the technician reads goes to stdout, or to stderr when stdout is for JSON.
    out = sys.stderr if args.json else sys.stdout
    plan = None
    scope, trial = "replace", None
    if not args.previous:
        scope = choose_scope(settings, args)
        trial = choose_trial(settings, args, scope)
    if not args.yes:
        plan, confirmed = _ask_first(settings, args, out, scope, trial)
        if not confirmed:
            _say("mftui: restore cancelled; nothing was changed", sys.stderr)
            if args.json:
                _print_json({"ok": False, "restored": False, "reason": "cancelled"})
            return EXIT_FAILED
    try:
        with ProgressBar("restore") as bar:
            if args.previous:
                result = restore_previous(settings, progress=bar)
            else:  # the plan: exactly what was shown
                result = restore_backup(settings, plan or args.file, progress=bar,
                                        discard_previous=args.discard_previous, scope=scope, trial=trial,
                                        protect=getattr(args, "protect", None),
                                        shown_as=getattr(args, "backup_file", None))
    except KeyboardInterrupt:
        # Interrupted in the middle: say honestly where the instance stands.
        from .restore import recover

        said = recover(settings)
        _say(f"mftui: interrupted; {said or 'nothing was changed'}", sys.stderr)
        if args.json:
            _print_json({"ok": False, "restored": None, "reason": f"interrupted; {said or 'nothing was changed'}"})
        return EXIT_FAILED
    data: dict[str, Any] = {
        "ok": True,
        "restored": True,
        "name": result.info.name,
        "instance_id": result.info.instance_id,
        "files": len(result.info.files),
        "bytes": result.info.total_bytes,
        "safety_backup": str(result.safety_backup),
        "safety_archive": str(result.safety_archive) if result.safety_archive else None,
        "previous": str(result.previous),
        "method": result.method,
        "carried_over": result.carried,
        "left_behind": list(result.left_behind),
        "changes": result.changes.to_json(),
    }
    if not args.previous:
        data["path"] = str(getattr(args, "backup_file", args.file))
        data["scope"] = result.scope
        data["trial"] = {"deadline": result.trial_deadline, "timeout_seconds": trial} if trial else None
    _say(result.summary, out)
    if trial:
        say_trial(settings, result.trial_deadline, trial, out)
    _say_left_behind(result, out)
    code = _reboot_after(settings, args, data, out)
    if args.json:
        _print_json(data)
    return code


def _say_left_behind(result: Any, out: TextIO) -> None:
    if result.left_behind:
        _say(f"Not carried over ({len(result.left_behind)}): not configuration, but the backup has a file or folder "
             f"at the same place. Each stays in the previous configuration, {show_path(result.previous)}, "
             "which the next restore discards: move what you need by hand.", out)
        for path in result.left_behind:
            _say(f"  {show_path(path)}", out)


def _reboot_after(settings: Settings, args: argparse.Namespace, data: dict[str, Any], out: TextIO) -> int:
    """Ask the reboot service (unless --no-reboot); ``data["reboot"]`` says what happened."""
    if args.no_reboot:
        data["reboot"] = {"requested": False}
        _say("Not rebooting (--no-reboot): restart the unit to run the restored configuration.", out)
        return EXIT_OK
    from .errors import RebootError
    from .reboot import reboot_service

    try:
        outcome = reboot_service(settings).request_reboot()
    except RebootError as exc:
        data["ok"] = False
        data["reboot"] = {"requested": True, "ok": False, "message": str(exc)}
        _say(f"mftui: the restore is committed, but the reboot request failed: {exc}", sys.stderr)
        return EXIT_FAILED
    data["reboot"] = {"requested": True, "ok": True, "backend": outcome.backend, "real": outcome.real,
                      "message": outcome.message}
    _say(outcome.message, out)
    return EXIT_OK


def _ask_first(settings: Settings, args: argparse.Namespace, out: TextIO, scope: str,
               trial: float | None) -> tuple[Any, bool]:
    """Show what the restore does (the mode, the trial, the lockout risk) and ask; (the plan shown, yes?)."""
    from .cli_trial import explain_plan
    from .restore import plan_restore, previous_configuration
    from .restore.trial_record import human_duration

    plan = None
    if args.previous:
        prev = previous_configuration(settings)
        if prev is None:
            from .errors import RestoreError

            raise RestoreError("there is no previous configuration to go back to: it is kept only after a "
                               "restore, until the next one")
        _say(f"Put back the {prev.describe()}", out)
        question = "Put the previous configuration back over the live one?"
        expected_id = ""
    else:
        with ProgressBar("checking") as bar:
            plan = plan_restore(settings, args.file, progress=bar, scope=scope)
        _say(format_info(plan.info), out)
        _say(file=out)
        _say(plan.changes.describe(), out)
        _say(file=out)
        _say(explain_plan(plan, trial), out)
        mode = f"{plan.scope}, trial {human_duration(trial)}" if trial else f"{plan.scope}, no trial"
        question = f"Restore backup '{show(plan.info.name)}' over the live configuration? ({mode})"
        expected_id = plan.changes.archive_instance_id if plan.changes.other_unit else ""
    return plan, _confirm(question, expected_id)


def _confirm(question: str, expected_id: str = "") -> bool:
    """Ask on the terminal; the default is No. A clone must be confirmed by typing the source hub id."""
    try:
        if expected_id:
            _say(
                f"{question}\nThis backup comes from another unit. To clone it onto this one, type its hub id "
                f"({show(expected_id, limit=40)}); anything else cancels: ", sys.stderr, end=""
            )
            sys.stderr.flush()
            return sys.stdin.readline().strip().lower() == expected_id.strip().lower()
        _say(f"{question} [y/N] ", sys.stderr, end="")
        sys.stderr.flush()
        return sys.stdin.readline().strip().lower() in ("y", "yes")
    except (EOFError, OSError):
        return False
