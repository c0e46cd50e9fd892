// Package httpapi is the edge of the partner API on API Gateway HTTP API
// (payload 2.0): problem+json errors (RFC 9457), the caller from the JWT
// authorizer's claims, strict JSON decoding with dotted field paths, JSON
// merge patch, query and header helpers, and a small router.
package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/claim"
)

// ProblemBase prefixes every problem type URI.
const ProblemBase = "https://cpor-claims.example/problems/"

// Problem is an RFC 9457 problem; it is also an error.
type Problem struct {
	Type   string             `json:"type"`
	Title  string             `json:"title"`
	Status int                `json:"status"`
	Detail string             `json:"detail,omitempty"`
	Code   string             `json:"code"`
	Errors []claim.FieldError `json:"errors,omitempty"`
}

func (p *Problem) Error() string { return p.Code + ": " + p.Detail }

// NewProblem builds a problem of a code.
func NewProblem(status int, code, title, detail string, fields ...claim.FieldError) *Problem {
	return &Problem{Type: ProblemBase + code, Title: title, Status: status, Detail: detail, Code: code, Errors: fields}
}

// Problems used at the edge.
func badInput(detail string, fields ...claim.FieldError) *Problem {
	return NewProblem(http.StatusBadRequest, "invalid_input", "Invalid input", detail, fields...)
}

// Unauthorized is 401 unauthorized.
func Unauthorized(detail string) *Problem {
	return NewProblem(http.StatusUnauthorized, "unauthorized", "Unauthorized", detail)
}

// Forbidden is 403 forbidden.
func Forbidden(detail string) *Problem {
	return NewProblem(http.StatusForbidden, "forbidden", "Forbidden", detail)
}

// NotFound is 404 not_found.
func NotFound(detail string) *Problem {
	return NewProblem(http.StatusNotFound, "not_found", "Not found", detail)
}

// TooLarge is 413 payload_too_large.
func TooLarge() *Problem {
	return NewProblem(http.StatusRequestEntityTooLarge, "payload_too_large", "Payload too large", "The body is larger than 64 KiB.")
}

// ErrorResponse answers an error: a *Problem as itself, anything else as a
// 500 that reveals nothing.
func ErrorResponse(err error) events.APIGatewayV2HTTPResponse {
	var p *Problem
	if !errors.As(err, &p) {
		p = NewProblem(http.StatusInternalServerError, "internal_error", "Internal error", "Something went wrong; try again later.")
	}
	body, _ := json.Marshal(p)
	return events.APIGatewayV2HTTPResponse{
		StatusCode: p.Status,
		Headers:    map[string]string{"Content-Type": "application/problem+json"},
		Body:       string(body),
	}
}

// JSON answers a JSON body, with extra headers.
func JSON(status int, v any, headers ...map[string]string) events.APIGatewayV2HTTPResponse {
	body, err := json.Marshal(v)
	if err != nil {
		return ErrorResponse(err)
	}
	h := map[string]string{"Content-Type": "application/json"}
	for _, m := range headers {
		for k, v := range m {
			h[k] = v
		}
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: h, Body: string(body)}
}
