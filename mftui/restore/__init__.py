"""Restore: the two-phase transaction that cannot brick the appliance, and its recovery.

See docs/RESTORE.md. The public API lives here; the modules hold the parts:
``changes`` (what a restore would change), ``transaction`` (phase one, phase
two, recovery), ``journal`` (the fsync'ed record), ``fsops`` (exchange, sync).
"""

from .changes import Changes
from .transaction import (
    PreviousConfiguration,
    RestorePlan,
    RestoreResult,
    compare,
    plan_restore,
    previous_configuration,
    recover,
    restore_backup,
    restore_previous,
)

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
]
