"""The one-line form of an exception, which every error report uses."""

import pytest

from sweep.errors import ConfigError, first_line, one_line


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        (AssertionError(), "AssertionError"),  # no message: formatting it once raised IndexError
        (TimeoutError(), "TimeoutError"),
        (ValueError("   \n  "), "ValueError"),
        (ValueError("bad value\nat line 2"), "ValueError: bad value"),
        (RuntimeError("  padded  "), "RuntimeError: padded"),
        (ConfigError("what", where="key", fix="do this"), "ConfigError: key: what. do this."),
    ],
)
def test_one_line(exc, line):
    assert one_line(exc) == line


def test_one_line_is_bounded_and_first_line_falls_back_to_the_type():
    assert len(one_line(ValueError("x" * 1000))) == 500
    assert first_line(KeyError()) == "KeyError"
    assert first_line(OSError("disk full\nmore")) == "disk full"
