"""Error answers as RFC 9457 problem details (application/problem+json).

Every error the API gives, ours or Werkzeug's (404, 405, 413...), leaves through
here, so clients parse one shape: type, title, status, detail, and for invalid
input `errors: [{field, reason}]`.
"""

import logging

import orjson
from flask import Flask, Response
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_TYPE_BASE = "https://questline.example/problems/"

# status -> (type slug, title) for the answers that have no more specific type.
_BY_STATUS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "No valid credential"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Payload too large"),
    414: ("uri-too-long", "Request line too long"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-failed", "The request is not a valid event"),
    431: ("headers-too-large", "Request headers too large"),
    500: ("internal-error", "Internal server error"),
    503: ("kafka-unavailable", "Kafka did not acknowledge the event in time"),
}


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


def invalid(field: str, reason: str, status: int = 422) -> Problem:
    """A problem about one field of the input."""
    return Problem(status, f"{field}: {reason}", errors=[{"field": field, "reason": reason}])


def problem_document(problem: Problem) -> bytes:
    slug, title = _BY_STATUS.get(problem.status, ("error", "Error"))
    body = {"type": _TYPE_BASE + slug, "title": title, "status": problem.status, "detail": problem.detail}
    if problem.errors:
        body["errors"] = problem.errors
    body.update(problem.extra)
    return orjson.dumps(body)


def problem_response(problem: Problem) -> Response:
    response = Response(problem_document(problem), status=problem.status, mimetype=PROBLEM_JSON)
    response.headers.update(problem.headers)
    return response


def _from_http_exception(exc: HTTPException) -> Response:
    headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
    return problem_response(Problem(exc.code or 500, exc.description or exc.name, headers=headers))


def _from_unexpected(exc: Exception) -> Response:
    log.exception("unexpected error")
    return problem_response(Problem(500, "The server failed to handle the request."))


def init_app(app: Flask) -> None:
    app.register_error_handler(Problem, problem_response)
    app.register_error_handler(HTTPException, _from_http_exception)
    app.register_error_handler(Exception, _from_unexpected)
