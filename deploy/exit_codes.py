"""The exit codes of every ``python -m deploy`` command: what a pipeline can branch on."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """What a pipeline can branch on; 2 is left to argparse's usage errors."""

    OK = 0
    FAILED = 1
    LOCKED = 3
    STACK_NOT_FOUND = 4
    CHANGES_PENDING = 5
    NO_CLI = 6
    AWAITING_APPROVAL = 8
    """An upgrade campaign finished a wave and waits for approval to start the next."""
    DEGRADED = 9
    """deploy status: a cluster is not as it should be (a status, a health check, a control Off), or could
    not be described at all (denied, throttled, reading it failed: unknown)."""
    MISSING = 10
    """deploy status: a cluster of the stack file is not in EKS."""
    UNREACHABLE = 11
    """deploy status: a cluster's regional EKS API did not answer (the worst: nothing is known of it)."""
