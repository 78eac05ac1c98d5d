"""One exception hierarchy with user-facing wording.

Every error the user can cause (a bad file, a broken taxonomy, a wrong column mapping) is a
``WorkbenchError``. Its message is written for the person at the keyboard; ``problems`` lists the
individual findings (each naming a row, line, column or file) when there are several.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One finding in an input: where it is and what is wrong."""

    message: str
    line: int | None = None  # line or row number as the user sees it (1-based)
    column: str | None = None
    unit: str = "line"  # "line" for text files, "row" for tables (header = row 1)

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"{self.unit} {self.line}")
        if self.column:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class WorkbenchError(Exception):
    """Base of all errors with a message meant for the user."""

    prefix = "Error"

    def __init__(self, message: str, problems: list[Problem] | tuple[Problem, ...] = ()):
        super().__init__(message)
        self.message = message
        self.problems = tuple(problems)

    def __str__(self) -> str:
        text = f"{self.prefix}: {self.message}"
        if self.problems:
            shown = self.problems[:20]
            text += "\n" + "\n".join(f"  - {p}" for p in shown)
            if len(self.problems) > len(shown):
                text += f"\n  … and {len(self.problems) - len(shown)} more"
        return text


class TaxonomyError(WorkbenchError):
    prefix = "Taxonomy problem"


class Cancelled(WorkbenchError):
    """Work stopped on request (a job's Cancel): what was kept is said in the message (a bulk job
    its rows done, an iterative training its last completed epoch). The one stop exception of the
    job runners, the training loop and the kinds."""

    prefix = "Cancelled"


class InputFileError(WorkbenchError):
    prefix = "File problem"


class ImportFailed(WorkbenchError):
    prefix = "Import failed, nothing was written"


class StoreError(WorkbenchError):
    prefix = "Database problem"


class NotFound(WorkbenchError):
    prefix = "Not found"
