"""Log lines nobody can forge or garble: control characters in what is logged are escaped.

A request path, an id or a file name may carry NUL, ESC, CR/LF or Unicode line separators and bidi
overrides; written raw they break log parsers, fake new lines or hide text in terminals.
"""

import logging
import re
from types import TracebackType

# C0 and C1 controls (tab and newline too: one record is one line), line/paragraph separators,
# bidi embeddings, overrides and isolates.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    r"""`text` with every control character written as a visible escape (`\x00`, `\u2028`)."""
    return CONTROL.sub(_escaped, text)


class SafeFormatter(logging.Formatter):
    """A `logging.Formatter` whose message is one line of printable text.

    A traceback keeps its own line breaks, but no line of it holds a control character.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        return escape_controls(super().formatMessage(record))

    def formatException(self, ei: ExcInfo) -> str:  # noqa: N802 - logging's name
        return _escape_lines(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return _escape_lines(super().formatStack(stack_info))


def _escape_lines(text: str) -> str:
    return "\n".join(escape_controls(line) for line in text.split("\n"))
