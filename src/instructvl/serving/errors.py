"""Errors a client sees: an HTTP status and a JSON body in the OpenAI error shape,
`{"error": {"message", "type", "param", "code"}}`. No traceback ever reaches a client."""

from __future__ import annotations


class APIError(Exception):
    """A request the server refuses or could not complete. `message` says what was wrong
    and what is expected; `param` names the request field at fault (or None); `headers`
    are extra response headers (e.g. Retry-After)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict:
        """The JSON body: `{"error": {...}}`."""
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def bad_request(message: str, param: str | None = None, code: str | None = None) -> APIError:
    """400: the request is malformed or asks for something this server does not do."""
    return APIError(400, message, param=param, code=code)


def too_large(message: str) -> APIError:
    """413: the request body is over the server's limit."""
    return APIError(413, message, code="request_too_large")


def busy(retry_after: int, message: str) -> APIError:
    """429: every generation slot and queue place is taken; retry after `retry_after` s."""
    return APIError(
        429, message, type="rate_limit_error", code="server_busy", headers={"Retry-After": str(retry_after)}
    )


def timed_out(seconds: float) -> APIError:
    """504: the request ran past the server's per-request time limit."""
    return APIError(
        504,
        f"the request took longer than this server's limit of {seconds:g} s (--request-timeout) and was stopped; "
        "ask for fewer tokens (max_tokens) or retry when the server is less busy",
        type="timeout_error",
        code="request_timeout",
    )


def internal(message: str = "the server failed while generating; its log has the details") -> APIError:
    """500: a fault on the server's side (the details go to the server log, not the client)."""
    return APIError(500, message, type="server_error", code="internal_error")
