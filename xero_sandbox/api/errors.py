"""Error answers of the Accounting API in Xero's shapes (ValidationException, PostDataInvalid, plain-text 404)."""

from django.http import HttpResponse

from xero_sandbox.api.serialise import json_response

NOT_FOUND_TEXT = "The resource you're looking for cannot be found"


class ElementInvalid(Exception):
    """One element of a write failed validation; carries Xero's messages for it."""

    def __init__(self, *messages: str):
        super().__init__("; ".join(messages))
        self.messages = list(messages)


class NotFound(Exception):
    """The addressed record does not exist in this organisation."""


class QueryInvalid(Exception):
    """A `where` or `order` clause the sandbox cannot read."""


def not_found() -> HttpResponse:
    return HttpResponse(NOT_FOUND_TEXT, status=404, content_type="text/html; charset=utf-8")


def validation_exception(elements: list[dict]) -> HttpResponse:
    return json_response(
        {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": elements,
        },
        status=400,
    )


def post_data_invalid(detail: str) -> HttpResponse:
    return json_response(
        {
            "ErrorNumber": 14,
            "Type": "PostDataInvalidException",
            "Message": f"JSON for post data was invalid,{detail}",
        },
        status=400,
    )


def query_parse_error(detail: str) -> HttpResponse:
    return json_response(
        {"ErrorNumber": 16, "Type": "QueryParseException", "Message": detail},
        status=400,
    )


def bad_request(message: str) -> HttpResponse:
    """A request-level validation failure (not tied to one element)."""
    return json_response(
        {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": message,
            "Elements": [],
        },
        status=400,
    )
