"""User-facing errors. The CLI prints their message (no traceback) and exits with status 2.

Every message names the file, line or key at fault and says what to do about it.
"""


class TracemixError(Exception):
    """Bad input or configuration the user can fix."""


class RecipeError(TracemixError, ValueError):
    """An invalid recipe, training config, sweep or task file."""


class DataError(TracemixError):
    """Input data that cannot be used (missing columns, unreadable files, short supply)."""
