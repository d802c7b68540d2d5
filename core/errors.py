"""The project's own error types: every user-facing failure is one of these, never a bare KeyError."""

from __future__ import annotations


class VftError(Exception):
    """Base class: the CLI prints these as one clear message and exits non-zero, without a traceback."""


class ConfigError(VftError):
    """A run config that is unknown, malformed or out of range."""


class ModelNotFoundError(VftError):
    """A base model alias, folder or file that cannot be found."""


class PackNotFoundError(VftError):
    """No pack registered under the requested name."""


class DataError(VftError):
    """Bad input data. Names the file, the 1-based row and the field so the user can fix it."""

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None, field: str | None = None):
        self.file, self.row, self.field, self.reason = file, row, field, message
        where = []
        if file is not None:
            where.append(str(file))
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class DataErrors(VftError):
    """Several bad rows at once, so a user fixes a file in one pass instead of one error per run."""

    def __init__(self, errors: list[DataError], total_bad: int):
        self.errors, self.total_bad = errors, total_bad
        lines = [str(e) for e in errors]
        more = total_bad - len(errors)
        if more > 0:
            lines.append(f"... and {more} more bad rows")
        super().__init__(f"{total_bad} bad row(s):\n  " + "\n  ".join(lines))


class ParseError(VftError):
    """A model output that does not parse into the pack's schema. Counted as wrong, never skipped."""


class RunError(VftError):
    """A run folder that is missing, incomplete or from an incompatible version."""
