"""Defence in depth for "no BSN in any log line": a logging filter that masks pupil-number-like runs.

The code never logs payload values on purpose; this catches what third-party code (gunicorn quoting
a malformed request line, a library's exception text) might write anyway. Any run of 8 or 9 digits
standing alone — the shape of a BSN or onderwijsnummer — becomes ``*********``.
"""

from __future__ import annotations

import logging
import re
import traceback

# \d, not [0-9]: the mask errs on the safe side, so a BSN in full-width digits ("１１１２２２３３３") is masked
# too, even though the broker refuses such a number as input.
_NUMMER = re.compile(r"(?<!\d)\d{8,9}(?!\d)")
MASK = "*********"


def mask(text: str) -> str:
    """``text`` with every standalone run of 8–9 digits replaced by asterisks."""
    return _NUMMER.sub(MASK, text)


class MaskLeerlingnummers(logging.Filter):
    """Rewrites a record's message (and traceback text) with pupil-number-like runs masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = mask("".join(traceback.format_exception(*record.exc_info)).rstrip())
        return True


def protect_logger(logger: logging.Logger) -> None:
    """Attach the mask to every handler of ``logger`` (handlers, not the logger: records from child
    loggers pass through handlers without passing the parent's filters)."""
    for handler in logger.handlers:
        if not any(isinstance(f, MaskLeerlingnummers) for f in handler.filters):
            handler.addFilter(MaskLeerlingnummers())
