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
