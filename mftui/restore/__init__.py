"""Restore: the two-phase transaction that cannot brick the appliance, and its recovery.

See docs/RESTORE.md. The public API lives here; the modules hold the parts:
``changes`` (what a restore would change), ``transaction`` (plan, phase
one), ``swap`` (phase two), ``recovery``, ``previous`` (put back), ``journal``
(the fsync'ed record), ``fsops`` (exchange, sync), ``scope`` (replace or
clone), ``trial`` + ``trial_record`` + ``watch`` (trial restores).

Every mftui command calls :func:`recover` first, so this package is imported
at every start: it loads the transaction (and the archive validator, the
extractor, ...) only when a name of it is used, and :func:`recover` only when
there is something to recover.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .journal import recovery_pending
from .trial_record import reverting_pending

if TYPE_CHECKING:
    from ..settings import Settings
    from .changes import Changes
    from .previous import PreviousConfiguration, previous_configuration, restore_previous
    from .scope import default_scope
    from .transaction import RestorePlan, RestoreResult, compare, plan_restore, restore_backup, verify_backup
    from .trial import TrialStatus, keep_trial, lockout_risk, request_reboot_after_revert, revert_now, trial_status

__all__ = [
    "Changes",
    "PreviousConfiguration",
    "RestorePlan",
    "RestoreResult",
    "compare",
    "plan_restore",
    "previous_configuration",
    "recover",
    "restore_backup",
    "restore_previous",
    "verify_backup",
    "default_scope",
    "TrialStatus",
    "keep_trial",
    "lockout_risk",
    "request_reboot_after_revert",
    "revert_now",
    "trial_status",
    "REPLACE",
    "CLONE",
]

_LAZY = {
    "Changes": "changes",
    "PreviousConfiguration": "previous",
    "RestorePlan": "transaction",
    "RestoreResult": "transaction",
    "compare": "transaction",
    "plan_restore": "transaction",
    "previous_configuration": "previous",
    "restore_backup": "transaction",
    "restore_previous": "previous",
    "verify_backup": "transaction",
    "default_scope": "scope",
    "REPLACE": "scope",
    "CLONE": "scope",
    "TrialStatus": "trial",
    "keep_trial": "trial",
    "lockout_risk": "trial",
    "request_reboot_after_revert": "trial",
    "revert_now": "trial",
    "trial_status": "trial",
}


def recover(settings: Settings) -> str | None:
    """Finish or roll back an interrupted restore; a sentence saying what was done, or None.

    Cheap when there is nothing to do: a look at the state folder (and the
    journal, if there is one), no lock taken, nothing created, nothing of the
    transaction imported. See recovery.recover.
    """
    from ..state import checked_state_dir

    state = checked_state_dir(settings, create=False)  # StateError for a folder mftui did not make
    if state is None or not (recovery_pending(state) or reverting_pending(state)):
        return None
    from .recovery import recover as recover_now

    return recover_now(settings)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
