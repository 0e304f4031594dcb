"""The fuzz harness's own judgement: what counts as exception text, how answers are counted, the request budget."""

import pytest

from fuzz.cli import budget
from fuzz.harness import FuzzReport, exception_text


@pytest.mark.parametrize(
    "body",
    [
        "Exception while executing function: Functions.incoming_call: UnicodeEncodeError: 'utf-8' codec",
        'Traceback (most recent call last):\n  File "x.py", line 1',
        "body is not valid JSON: RecursionError",
        "HttpResponseError: (8522) Call not found",
        "TableTransactionError",
    ],
)
def test_exception_texts_are_recognised(body):
    assert exception_text(body)


@pytest.mark.parametrize(
    "body",
    [
        '{"error": {"code": "BadRequest", "message": "body is nested more than 32 levels deep"}}',
        '{"error": {"code": "InternalError", "message": "internal error"}}',
        "Function Functions.incoming_call failed; the dev host's log has the details",
        "invalid token: Signature verification failed",
    ],
)
def test_the_apps_own_messages_are_not_exception_texts(body):
    assert exception_text(body) is None


def test_report_counts_5xx_and_exception_texts_and_no_answer():
    report = FuzzReport()
    report.record("POST /calls", 400, '{"error": {"code": "BadRequest"}}')
    report.record("POST /calls", 502, "ACS failed")
    report.record("POST /api/callbacks", 0, "connection refused")
    report.record("POST eventgrid incoming_call", 400, "ValueError: boom")

    assert report.requests == 4 and not report.ok
    assert [o.status for o in report.server_errors] == [502, 0]
    assert [o.route for o in report.exception_texts] == ["POST eventgrid incoming_call"]
    assert "5xx (or no answer): 2" in report.summary()


def test_budget_covers_the_requested_number_of_requests():
    shares = budget(10_000, operations=32)
    sent = 2 * 32 * shares["api"] + 32 * shares["raw"] + shares["callbacks"] + shares["event_grid"]
    assert sent >= 10_000
