from __future__ import annotations

import json

import httpx
import pytest
from sinch_calling._runtime.exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CallbackVerificationError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    SinchCallingError,
    UnprocessableEntityError,
    error_from_response,
)

_REQUEST = httpx.Request("GET", "https://calling.api.sinch.com/calling/v1/calls/id/abc")


def _response(status: int, body: object = None, *, content: bytes | None = None) -> httpx.Response:
    if content is None and body is not None:
        content = json.dumps(body).encode()
    return httpx.Response(status, content=content or b"", request=_REQUEST)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, ForbiddenError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (599, ServerError),
        (402, PaymentRequiredError),
        (405, APIError),
        (418, APIError),
    ],
)
def test_status_maps_to_class(status: int, cls: type[APIError]) -> None:
    error = error_from_response(_response(status, {"errorCode": status * 100, "message": "m"}))
    assert type(error) is cls
    assert error.status_code == status


def test_sinch_error_body() -> None:
    response = _response(404, {"errorCode": 40400, "message": "Call not found", "reference": "ref-1"})
    error = error_from_response(response)
    assert isinstance(error, NotFoundError)
    assert (error.error_code, error.message, error.reference) == (40400, "Call not found", "ref-1")
    assert error.response is response
    assert error.body == {"errorCode": 40400, "message": "Call not found", "reference": "ref-1"}
    assert str(error) == "404 NotFoundError: errorCode=40400 message='Call not found' reference='ref-1'"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(40001, 40001), ("40001", 40001), (" 40001 ", 40001), ("E40001", None), ("٤٠٠", None), (True, None), (None, None)],
)
def test_error_code_accepts_int_or_digit_string(raw: object, expected: int | None) -> None:
    error = error_from_response(_response(400, {"errorCode": raw, "message": "x"}))
    assert error.error_code == expected
    assert isinstance(error.body, dict) and error.body["errorCode"] == raw  # raw value kept


def test_str_leaves_out_missing_fields() -> None:
    assert str(error_from_response(_response(500, {"message": "boom"}))) == "500 ServerError: message='boom'"


@pytest.mark.parametrize(
    ("status", "content", "cls", "message"),
    [
        (404, b"", NotFoundError, "Not Found"),
        (503, b"upstream unavailable", ServerError, "upstream unavailable"),
        (502, b"<html>Bad gateway</html>", ServerError, "<html>Bad gateway</html>"),
        (400, b"[1, 2]", BadRequestError, "[1, 2]"),
        (400, b'"just a string"', BadRequestError, '"just a string"'),
        (401, b'{"status": "401 Unauthorized"}', AuthenticationError, "Unauthorized"),
        (400, b'{"message": 5}', BadRequestError, "Bad Request"),
        (599, b"", ServerError, "HTTP 599"),
        (500, b"\xff\xfe\xfa", ServerError, "\ufffd\ufffd\ufffd"),
        (500, b"[" * 100_000, ServerError, "[" * 199 + "…"),
    ],
    ids=[
        "empty",
        "text",
        "html",
        "json-list",
        "json-string",
        "no-message",
        "bad-message",
        "no-reason",
        "bad-utf8",
        "deep",
    ],
)
def test_odd_bodies_still_give_the_right_class(status: int, content: bytes, cls: type[APIError], message: str) -> None:
    error = error_from_response(_response(status, content=content))
    assert type(error) is cls
    assert error.message == message
    assert error.error_code is None and error.reference is None


def test_long_text_message_is_truncated() -> None:
    error = error_from_response(_response(502, content=b"x" * 10_000))
    assert len(error.message) == 200 and error.message.endswith("…")
    assert error.body == "x" * 10_000  # the full text stays available


def test_unread_stream_does_not_raise() -> None:
    response = httpx.Response(500, stream=httpx.ByteStream(b'{"message": "never read"}'), request=_REQUEST)
    error = error_from_response(response)
    assert type(error) is ServerError
    assert error.message == "Internal Server Error" and error.body is None


def test_non_string_reference_is_dropped() -> None:
    error = error_from_response(_response(400, {"message": "m", "reference": 12}))
    assert error.reference is None


def test_hierarchy() -> None:
    for cls in (APIError, APIConnectionError, ResponseValidationError, CallbackVerificationError):
        assert issubclass(cls, SinchCallingError)
    assert issubclass(APITimeoutError, APIConnectionError)
    for cls in (BadRequestError, AuthenticationError, ForbiddenError, NotFoundError, ConflictError):
        assert issubclass(cls, APIError)
    assert issubclass(UnprocessableEntityError, APIError) and issubclass(RateLimitError, APIError)
    assert issubclass(ServerError, APIError)


def test_connection_errors_carry_the_request() -> None:
    assert APIConnectionError(request=_REQUEST).request is _REQUEST
    assert str(APITimeoutError(request=_REQUEST)) == "Request timed out."
    assert str(APIConnectionError(request=_REQUEST)) == "Connection error."


def test_response_validation_error_names_the_field() -> None:
    response = _response(200, {"callId": 5})
    error = ResponseValidationError("callId", "expected a string, got int", response=response)
    assert error.field == "callId" and error.response is response
    assert "'callId'" in str(error) and "expected a string" in str(error)


def test_callback_verification_error_names_the_check() -> None:
    error = CallbackVerificationError("signature", "signature does not match")
    assert error.check == "signature"
    assert str(error) == "callback verification failed (signature): signature does not match"


def test_repr_and_str_carry_status_error_code_message_and_reference() -> None:
    body = {"errorCode": 40200, "message": "Not enough credit", "reference": "r-1", "status": "402 PaymentRequired"}
    error = error_from_response(_response(402, body))
    assert repr(error) == (
        "PaymentRequiredError(status_code=402, error_code=40200, message='Not enough credit', reference='r-1')"
    )
    assert str(error) == "402 PaymentRequiredError: errorCode=40200 message='Not enough credit' reference='r-1'"


def test_every_exception_is_importable_from_the_package() -> None:
    import sinch_calling
    from sinch_calling._runtime import exceptions

    public = {name for name in exceptions.__all__ if name != "error_from_response"}
    assert public <= set(sinch_calling.__all__)
    assert all(getattr(sinch_calling, name) is getattr(exceptions, name) for name in public)
