"""A problem in a stack's configuration, and the one error that reports them all."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pulumi
from pydantic_core import PydanticCustomError

# The custom pydantic error type of every check this program writes; its message is shown as is.
PROBLEM_ERROR_TYPE = "stack_config"


@dataclass(frozen=True)
class ConfigProblem:
    """One invalid setting: the full config key and what is wrong with it."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class StackConfigError(pulumi.RunError):
    """Every problem in a stack's configuration, as one error the CLI prints without a traceback."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(
            f"The stack configuration has {count} problem{'s' if count != 1 else ''} "
            f"(nothing was created):\n{lines}"
        )


def problem(message: str) -> PydanticCustomError:
    """A validation error whose message pydantic shows as is (no input is ever echoed)."""
    return PydanticCustomError(PROBLEM_ERROR_TYPE, message)
