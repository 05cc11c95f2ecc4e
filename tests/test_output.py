"""The plain summary table: aligned, and hostile names shown escaped, never interpreted."""

from __future__ import annotations

from cyberstalk.commands._output import display_width, print_table, safe_text


def test_columns_line_up_including_wide_characters(capsys) -> None:
    print_table("t", ("a", "b"), [("日本", "x"), ("abcdef", None), (1, "y")])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "t"
    assert lines[1] == "a       b"
    assert lines[2] == "------  -"
    # the second column starts at the same terminal cell on every row
    starts = {display_width(row[: row.index(c)]) for row, c in ((lines[3], "x"), (lines[5], "y"))}
    assert starts == {8}
    assert lines[4] == "abcdef"  # None shows as empty, trailing spaces trimmed


def test_control_and_format_characters_are_escaped(capsys) -> None:
    hostile = "report\u202etxt.exe\x1b[2J\r\nnext\u2028"
    print_table("t", ("name",), [(hostile,)])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "\r" not in out
    assert out.splitlines()[3] == "report\\u202etxt.exe\\x1b[2J\\x0d\\x0anext\\u2028"


def test_safe_text_keeps_printable_text_as_is() -> None:
    assert safe_text("Ffôn Siân 📱 [bold]x[/bold]") == "Ffôn Siân 📱 [bold]x[/bold]"
    assert display_width("Siân") == 4
    assert display_width("日本") == 4
