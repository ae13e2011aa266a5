"""Errors that quote values keep their literal template, so adapters can translate them."""

from __future__ import annotations

from ctip.errors import MAX_MESSAGE_CHARS, ValidationError, WorkflowError


def test_a_templated_message_is_filled_and_keeps_its_template() -> None:
    error = WorkflowError("a case in state {status} cannot be referred",
                          hint="reopen the {status} case first", params={"status": "closed"})
    assert error.message == "a case in state closed cannot be referred"
    assert error.hint == "reopen the closed case first"
    assert error.template == "a case in state {status} cannot be referred"
    assert error.hint_template == "reopen the {status} case first"
    assert str(error) == f"{error.message}\n  What to do: {error.hint}"


def test_a_literal_message_needs_no_params_and_a_long_value_is_bounded() -> None:
    plain = WorkflowError("refer to another agency {not a placeholder}")
    assert plain.message == plain.template and plain.params == {}
    long = WorkflowError("got {value}", params={"value": "x" * (MAX_MESSAGE_CHARS + 50)})
    assert len(long.message) < MAX_MESSAGE_CHARS + 60
    assert "more characters not shown" in long.message


def test_a_validation_error_keeps_its_rule_as_the_template() -> None:
    error = ValidationError("the receiving agency is not in the service directory",
                            column="to_agency", value="Agency  B", allowed="Agency B")
    assert error.template == "the receiving agency is not in the service directory"
    assert error.message == ("column 'to_agency': the receiving agency is not in the service "
                             "directory (got 'Agency  B'); allowed: Agency B")
