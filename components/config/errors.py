"""The one error type of stack config and the config path every problem names.

``fleet:clusters[2].vpcCidr: ...`` lets an operator go straight to the line; the error is a
``pulumi.RunError``, so the Pulumi CLI prints every problem without a traceback.
"""

from __future__ import annotations

import pulumi

NAMESPACE = "fleet"


class ConfigError(pulumi.RunError):
    """Invalid stack config. A RunError, so the Pulumi CLI prints the message without a traceback."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"invalid stack config ({len(problems)} {noun}):\n{listing}")


def config_path(loc: tuple[int | str, ...]) -> str:
    """('clusters', 2, 'vpcCidr') -> 'fleet:clusters[2].vpcCidr'."""
    text = NAMESPACE
    for index, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += (":" if index == 0 else ".") + part
    return text
