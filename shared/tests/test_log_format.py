import logging
import sys

import pytest

from vitrina_shared.log_format import SafeFormatter, escape_controls


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x00b", "a\\x00b"),
        ("line\nforged line\r", "line\\x0aforged line\\x0d"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("\x7f\x85\x9f", "\\x7f\\x85\\x9f"),
        ("\u2028\u2029\u202e\u2066", "\\u2028\\u2029\\u202e\\u2066"),
        ("товар №1 — ok", "товар №1 — ok"),
    ],
)
def test_control_characters_are_escaped_and_the_rest_kept(raw, shown):
    assert escape_controls(raw) == shown


def record(message: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("t", logging.ERROR, __file__, 1, message, args, exc_info)


def test_one_record_is_one_printable_line():
    formatter = SafeFormatter("%(levelname)s %(message)s")
    line = formatter.format(record("bad path %s", "/a\x00b\nERROR forged"))
    assert line == "ERROR bad path /a\\x00b\\x0aERROR forged"


def test_a_traceback_keeps_its_lines_but_loses_its_control_characters():
    try:
        raise ValueError("id 'a\x00b'")
    except ValueError:
        exc_info = sys.exc_info()
    text = SafeFormatter("%(message)s").format(record("failed", exc_info=exc_info))
    assert text.startswith("failed\nTraceback")
    assert "ValueError: id 'a\\x00b'" in text
    assert "\x00" not in text
