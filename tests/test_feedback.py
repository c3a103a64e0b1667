"""What feedback may show of hidden tests: their verdicts, never their lines (issue 10, item 5)."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograder.grading.feedback import _as_text, _fenced
from autograder.grading.isolated import hidden_test_error
from autograder.grading.notebooks import REDACTED, hidden_lines, redact_lines, redact_text

HIDDEN = """\
# Hidden test: a secret case.
### BEGIN HIDDEN TESTS
x = torch.randn(3, 4, 5, dtype=torch.float64)
check_equal(secret_function(x), 42, name="the secret")
y = 1
### END HIDDEN TESTS
"""


def _notebook():
    visible = new_code_cell('check_equal(secret_function(1), 2, name="visible")\ny = 1')
    return new_notebook(cells=[visible, new_code_cell(HIDDEN)])


def test_hidden_lines_are_the_long_lines_only_hidden_tests_show():
    lines = hidden_lines(_notebook())
    assert lines == {
        "x = torch.randn(3, 4, 5, dtype=torch.float64)",
        'check_equal(secret_function(x), 42, name="the secret")',
    }


def test_redaction_reaches_every_string_and_fails_closed():
    nb = _notebook()
    secrets = hidden_lines(nb)
    leaked = new_output(
        "stream", name="stdout", text="seen: x = torch.randn(3, 4, 5, dtype=torch.float64)\n"
    )
    respaced = new_output(
        "error",
        ename="RuntimeError",
        evalue="x = torch.randn(3,\n  4, 5, dtype=torch.float64)",
        traceback=[],
    )
    nb.cells[0].outputs = [leaked, respaced]
    redact_lines(nb, secrets)
    out = nb.cells[0].outputs
    assert out[0]["text"] == f"seen: {REDACTED}\n"
    assert out[1]["evalue"] == REDACTED  # other spacing: the whole string goes
    assert "secret_function(x)" not in nbformat.writes(nb)
    assert redact_text("nothing secret here", secrets) == "nothing secret here"


def test_a_hidden_tests_error_keeps_its_type_not_its_message():
    error = hidden_test_error({"ename": "RuntimeError", "evalue": "captured: x = torch.randn(...)"})
    assert error["ename"] == "RuntimeError" and "captured" not in error["evalue"]
    forged = hidden_test_error({"ename": "x = torch.randn(3, 4, 5)", "evalue": ""})
    assert forged["ename"] == "an exception"
    assert hidden_test_error(None) is None


def test_rich_outputs_are_shown_as_text():
    html = new_output("display_data", data={"text/html": "<script>alert(1)</script>"})
    shown = _as_text(html)
    assert shown["data"] == {"text/plain": "<script>alert(1)</script>"}
    both = new_output(
        "execute_result",
        data={"text/plain": "x", "application/javascript": "alert(1)"},
        execution_count=1,
    )
    assert _as_text(both)["data"] == {"text/plain": "x"}
    png = new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"})
    assert _as_text(png)["data"] == {"image/png": "iVBOR", "text/plain": "<Figure>"}


def test_markdown_with_raw_html_becomes_a_code_block_no_fence_escapes():
    text = "<script>alert(1)</script>\n````\n<img src=x onerror=alert(2)>"
    fenced = _fenced(text)
    first, *_, last = fenced.splitlines()
    assert first == "`````text" and last == "`````"
