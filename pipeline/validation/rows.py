"""One line of the validation report: a computed number against a reference with a tolerance."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Row", "MODES"]

#: how a row passes: rel |c/r - 1| <= tol; abs |c - r| <= tol; atleast c >= r - tol;
#: atmost c <= r + tol
MODES = ("rel", "abs", "atleast", "atmost")


@dataclass(frozen=True)
class Row:
    """A computed value against a reference [SI, ``unit``] with a tolerance and its reason.

    ``section``: verification (closed forms), validation (measurements) or regression
    (golden values); ``mode`` see :data:`MODES`; ``note`` the source or why the tolerance.
    """

    section: str
    case: str
    quantity: str
    computed: float
    reference: float
    unit: str
    tolerance: float
    mode: str = "rel"
    note: str = ""

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r} not in {MODES}")

    @property
    def error(self) -> float:
        """computed/reference - 1 for ``rel``, else computed - reference."""
        if self.mode == "rel":
            return self.computed / self.reference - 1 if self.reference else math.nan
        return self.computed - self.reference

    @property
    def passed(self) -> bool:
        c, r, tol = self.computed, self.reference, self.tolerance
        if not (math.isfinite(c) and math.isfinite(r)):
            return False
        if self.mode == "rel":
            return bool(abs(self.error) <= tol)
        if self.mode == "abs":
            return bool(abs(c - r) <= tol)
        if self.mode == "atleast":
            return bool(c >= r - tol)
        return bool(c <= r + tol)

    def formatted(self) -> dict[str, str]:
        """Strings for the report table."""

        def num(x):
            return "nan" if not math.isfinite(x) else f"{x:.6g}"

        if self.mode == "rel":
            err, tol = f"{100 * self.error:+.3g} %", f"+-{100 * self.tolerance:.3g} %"
        else:
            err = f"{self.error:+.3g}"
            sign = {"abs": "+-", "atleast": ">= -", "atmost": "<= +"}[self.mode]
            tol = f"{sign}{self.tolerance:.3g}"
        return {
            "quantity": self.quantity,
            "computed": num(self.computed),
            "reference": num(self.reference),
            "unit": self.unit,
            "error": err,
            "tolerance": tol,
            "result": "pass" if self.passed else "FAIL",
        }

    def to_dict(self) -> dict:
        def clean(x):
            return float(x) if math.isfinite(x) else None

        return {
            "section": self.section,
            "case": self.case,
            "quantity": self.quantity,
            "computed": clean(self.computed),
            "reference": clean(self.reference),
            "unit": self.unit,
            "error": clean(self.error),
            "mode": self.mode,
            "tolerance": float(self.tolerance),
            "passed": self.passed,
            "note": self.note,
        }
