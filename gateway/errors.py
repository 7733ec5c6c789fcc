"""One error hierarchy for every surface; each surface renders it its own way
(an OperationOutcome on the FHIR APIs, a readable page in the portal)."""

from __future__ import annotations

ERROR_SYSTEM = "http://ncpeh.example.eu/fhir/CodeSystem/ncpeh-error"


class GatewayError(Exception):
    status = 500
    issue_type = "exception"  # FHIR IssueType
    code = "INTERNAL_ERROR"
    message = "An internal error occurred."

    def __init__(self, message: str | None = None, *, code: str | None = None, headers: dict | None = None):
        self.message = message or self.message
        self.code = code or self.code
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(GatewayError):
    status, issue_type, code, message = 400, "invalid", "BAD_REQUEST", "The request is not valid."


class MissingTrait(BadRequest):
    issue_type, code = "required", "MISSING_TRAIT"


class Unauthorized(GatewayError):
    status, issue_type, code, message = 401, "login", "UNAUTHORIZED", "Authentication is required."


class Forbidden(GatewayError):
    status, issue_type, code, message = 403, "forbidden", "FORBIDDEN", "This access is not allowed."


class ConsentRefused(Forbidden):
    code = "ACCESS_REFUSED"
    message = "The summary of this patient cannot be released across the border."


class NotFound(GatewayError):
    status, issue_type, code, message = 404, "not-found", "NOT_FOUND", "Not found."


class MethodNotAllowed(GatewayError):
    status, issue_type, code, message = 405, "not-supported", "METHOD_NOT_ALLOWED", "Method not allowed on this endpoint."


class NotAcceptable(GatewayError):
    status, issue_type, code, message = 406, "not-supported", "NOT_ACCEPTABLE", "Only FHIR JSON is produced."


class Conflict(GatewayError):
    status, issue_type, code, message = 409, "conflict", "CONFLICT", "Conflicting request."


class PayloadTooLarge(GatewayError):
    status, issue_type, code, message = 413, "too-costly", "PAYLOAD_TOO_LARGE", "The request body is too large."


class UnsupportedMediaType(GatewayError):
    status, issue_type, code, message = 415, "not-supported", "UNSUPPORTED_MEDIA_TYPE", "Unsupported content type."


class Unprocessable(GatewayError):
    status, issue_type, code, message = 422, "processing", "UNPROCESSABLE", "The content cannot be processed."


class TooManyRequests(GatewayError):
    status, issue_type, code, message = 429, "throttled", "RATE_LIMITED", "Too many requests."


class PeerError(GatewayError):
    """The foreign NCPeH failed (unreachable, TLS failure, 5xx, garbage)."""

    status, issue_type, code = 502, "transient", "PEER_UNAVAILABLE"
    message = "The foreign national contact point did not answer correctly."


class PeerTimeout(PeerError):
    status, issue_type, code = 504, "timeout", "PEER_TIMEOUT"
    message = "The foreign national contact point did not answer in time."


class ServiceUnavailable(GatewayError):
    status, issue_type, code, message = 503, "transient", "UNAVAILABLE", "The service is not available."


BY_STATUS: dict[int, type[GatewayError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 405: MethodNotAllowed, 406: NotAcceptable,
    409: Conflict,
    413: PayloadTooLarge, 415: UnsupportedMediaType, 422: Unprocessable, 429: TooManyRequests,
}
