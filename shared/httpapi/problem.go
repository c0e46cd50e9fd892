// Package httpapi is the HTTP edge of the partner API on API Gateway HTTP
// API (payload format 2.0): problem+json errors (RFC 9457), the caller from
// the JWT authorizer's claims, strict JSON decoding that reports every bad
// field by its dotted path, JSON merge patch (RFC 7396), query and header
// helpers, and a small router for a function serving several routes.
//
// This package knows HTTP, not the domain: it imports no domain package.
// The one mapping of domain errors to problems is shared/api's problemOf
// (STYLE.md 4); here a handler's error is either a *Problem, answered as
// itself, or anything else, answered as a 500 that reveals nothing.
// Nothing in this package talks to AWS.
package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
)

// FieldError is one invalid field of a problem's errors member, by dotted
// path (customer.tenantId, products[0].id). It has the shape of the
// domain's claim.FieldError, so one converts to the other.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ProblemBase prefixes every problem type URI: the type of code C is
// ProblemBase + C.
const ProblemBase = "https://cpor-claims.example/problems/"

// Media types of responses.
const (
	ContentTypeJSON    = "application/json"
	ContentTypeProblem = "application/problem+json"
)

// The error codes of the HTTP contract (API.md), plus the edge's own.
const (
	CodeInvalidInput         = "invalid_input"          // 400 unreadable, 422 a rule broken
	CodeUnauthorized         = "unauthorized"           // 401
	CodeForbidden            = "forbidden"              // 403
	CodeNotFound             = "not_found"              // 404
	CodeClaimLocked          = "claim_locked"           // 409
	CodeInvalidTransition    = "invalid_transition"     // 409
	CodeIdempotencyConflict  = "idempotency_conflict"   // 409
	CodeConcurrentUpdate     = "concurrent_update"      // 409
	CodeVersionMismatch      = "version_mismatch"       // 412
	CodePayloadTooLarge      = "payload_too_large"      // 413
	CodeUnsupportedMediaType = "unsupported_media_type" // 415
	CodeIncomplete           = "incomplete"             // 422
	CodeInternal             = "internal_error"         // 500
)

var titles = map[string]string{
	CodeInvalidInput:         "Invalid input",
	CodeUnauthorized:         "Unauthorized",
	CodeForbidden:            "Forbidden",
	CodeNotFound:             "Not found",
	CodeClaimLocked:          "Claim locked",
	CodeInvalidTransition:    "Invalid transition",
	CodeIdempotencyConflict:  "Idempotency conflict",
	CodeConcurrentUpdate:     "Concurrent update",
	CodeVersionMismatch:      "Version mismatch",
	CodePayloadTooLarge:      "Payload too large",
	CodeUnsupportedMediaType: "Unsupported media type",
	CodeIncomplete:           "The claim is incomplete",
	CodeInternal:             "Internal error",
}

// Problem is an RFC 9457 problem detail and an error. Its JSON always has
// all six members, errors as an array (empty when no field is at fault).
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail"`
	Code   string       `json:"code"`
	Errors []FieldError `json:"errors"`
}

// Error implements error.
func (p *Problem) Error() string {
	if p.Detail == "" {
		return p.Code
	}
	return p.Code + ": " + p.Detail
}

// MarshalJSON writes the problem with errors as [] rather than null.
func (p Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	if p.Errors == nil {
		p.Errors = []FieldError{}
	}
	return json.Marshal(plain(p))
}

// std builds a problem of code with its type URI and standard title.
func std(status int, code, detail string, fields ...FieldError) *Problem {
	return &Problem{Type: ProblemBase + code, Title: titles[code], Status: status, Detail: detail, Code: code, Errors: fields}
}

// BadRequest is 400 invalid_input: the request cannot be read.
func BadRequest(detail string, fields ...FieldError) *Problem {
	return std(http.StatusBadRequest, CodeInvalidInput, detail, fields...)
}

// InvalidInput is 422 invalid_input: the request was read but a value
// breaks a rule.
func InvalidInput(detail string, fields ...FieldError) *Problem {
	return std(http.StatusUnprocessableEntity, CodeInvalidInput, detail, fields...)
}

// Incomplete is 422 incomplete: submit of a claim missing required data.
func Incomplete(detail string, fields ...FieldError) *Problem {
	return std(http.StatusUnprocessableEntity, CodeIncomplete, detail, fields...)
}

// Unauthorized is 401 unauthorized.
func Unauthorized(detail string) *Problem {
	return std(http.StatusUnauthorized, CodeUnauthorized, detail)
}

// Forbidden is 403 forbidden.
func Forbidden(detail string) *Problem { return std(http.StatusForbidden, CodeForbidden, detail) }

// NotFound is 404 not_found.
func NotFound(detail string) *Problem { return std(http.StatusNotFound, CodeNotFound, detail) }

// ClaimLocked is 409 claim_locked: the claim is no longer a Draft.
func ClaimLocked(detail string) *Problem { return std(http.StatusConflict, CodeClaimLocked, detail) }

// InvalidTransition is 409 invalid_transition: the claim's status does not
// allow the action.
func InvalidTransition(detail string) *Problem {
	return std(http.StatusConflict, CodeInvalidTransition, detail)
}

// IdempotencyConflict is 409 idempotency_conflict: an Idempotency-Key
// reused with another body.
func IdempotencyConflict(detail string) *Problem {
	return std(http.StatusConflict, CodeIdempotencyConflict, detail)
}

// ConcurrentUpdate is 409 concurrent_update: another request changed the
// claim meanwhile.
func ConcurrentUpdate(detail string) *Problem {
	return std(http.StatusConflict, CodeConcurrentUpdate, detail)
}

// VersionMismatch is 412 version_mismatch: If-Match names another version.
func VersionMismatch(detail string) *Problem {
	return std(http.StatusPreconditionFailed, CodeVersionMismatch, detail)
}

// PayloadTooLarge is 413 payload_too_large.
func PayloadTooLarge() *Problem {
	return std(http.StatusRequestEntityTooLarge, CodePayloadTooLarge, "The body is larger than 64 KiB (65536 bytes).")
}

// UnsupportedMediaType is 415 unsupported_media_type.
func UnsupportedMediaType(detail string) *Problem {
	return std(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, detail)
}

// Internal is 500 internal_error; its detail never says what went wrong.
func Internal() *Problem {
	return std(http.StatusInternalServerError, CodeInternal, "Something went wrong on our side; try again later.")
}

// ProblemFrom is the problem answered for err: a *Problem (errors.As) as
// itself, type and title filled in when left empty; anything else, nil
// included, a 500 that reveals nothing. Domain errors are mapped to
// problems before they get here (shared/api's problemOf).
func ProblemFrom(err error) *Problem {
	var p *Problem
	if !errors.As(err, &p) || p == nil || p.Status < 400 || p.Status > 599 {
		return Internal()
	}
	q := *p
	if q.Type == "" {
		q.Type = ProblemBase + q.Code
	}
	if q.Title == "" {
		q.Title = titles[q.Code]
	}
	return &q
}

// ErrorResponse is the problem+json response for err (see ProblemFrom).
func ErrorResponse(err error) events.APIGatewayV2HTTPResponse {
	p := ProblemFrom(err)
	body, mErr := json.Marshal(p)
	if mErr != nil { // only a field error of unmarshalable text could do this
		p = Internal()
		body, _ = json.Marshal(p)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: p.Status,
		Headers:    map[string]string{"Content-Type": ContentTypeProblem},
		Body:       string(body),
	}
}

// JSON answers status with v as a JSON body, adding the given headers (a
// later map wins; Content-Type may be overridden). A v that cannot be
// marshalled is a programming error and answers 500.
func JSON(status int, v any, headers ...map[string]string) events.APIGatewayV2HTTPResponse {
	body, err := json.Marshal(v)
	if err != nil {
		return ErrorResponse(err)
	}
	h := map[string]string{"Content-Type": ContentTypeJSON}
	for _, m := range headers {
		for k, v := range m {
			setHeader(h, k, v)
		}
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: h, Body: string(body)}
}
