"""The one exception type the command line turns into a clear message (no traceback)."""


class InstructVLError(Exception):
    """A user-facing error: bad input, a missing file, an unknown key or preset.

    The message names the file, line or key at fault and says what was expected.
    """
