"""Exceptions raised at the boundaries of the pipeline.

Every message names the field, the value and the rule, so that a one-line error is enough
for a user to fix the input.
"""

from __future__ import annotations

__all__ = [
    "PipelineError",
    "DesignError",
    "MeshError",
    "ConvergenceError",
    "WorkflowError",
    "shorten",
    "MAX_VALUE_CHARS",
]

#: longest value echoed in a message [characters]: an error is one terminal line, and a
#: 50 MB input pasted into a field must not be echoed back whole (issue 17)
MAX_VALUE_CHARS = 60


def shorten(value: object, limit: int = MAX_VALUE_CHARS) -> str:
    """``repr(value)`` on one line, cut to ``limit`` characters with its full length noted."""
    text = repr(value).replace("\n", " ")
    if len(text) <= limit:
        return text
    return f"{text[: limit - 3]}... ({len(text)} chars)"


class PipelineError(Exception):
    """Base class of all errors the pipeline raises on purpose."""


class DesignError(PipelineError, ValueError):
    """An infeasible or malformed design, material or operating point."""

    def __init__(self, field: str, value: object, rule: str):
        self.field = field
        self.value = value
        self.rule = rule
        super().__init__(f"{field} = {shorten(value)}: {rule}")


class MeshError(PipelineError):
    """Geometry or meshing failed, or a cached mesh is inconsistent."""


class ConvergenceError(PipelineError):
    """A nonlinear solve did not converge; carries the residual history."""

    def __init__(self, message: str, residuals: list[float] | None = None):
        self.residuals = list(residuals or [])
        super().__init__(message)


class WorkflowError(PipelineError, ValueError):
    """A malformed workflow (sweep definition) file."""
