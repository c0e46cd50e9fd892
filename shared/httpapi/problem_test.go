package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestConstructors(t *testing.T) {
	tests := []struct {
		p      *Problem
		status int
		code   string
	}{
		{BadRequest("x"), 400, "invalid_input"},
		{InvalidInput("x"), 422, "invalid_input"},
		{Unauthorized("x"), 401, "unauthorized"},
		{Forbidden("x"), 403, "forbidden"},
		{NotFound("x"), 404, "not_found"},
		{ClaimLocked("x"), 409, "claim_locked"},
		{InvalidTransition("x"), 409, "invalid_transition"},
		{IdempotencyConflict("x"), 409, "idempotency_conflict"},
		{ConcurrentUpdate("x"), 409, "concurrent_update"},
		{VersionMismatch("x"), 412, "version_mismatch"},
		{PayloadTooLarge(), 413, "payload_too_large"},
		{UnsupportedMediaType("x"), 415, "unsupported_media_type"},
		{Incomplete("x"), 422, "incomplete"},
		{Internal(), 500, "internal_error"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			p := wantProblem(t, tt.p, tt.status, tt.code)
			if p.Type != "https://cpor-claims.example/problems/"+tt.code || p.Detail == "" {
				t.Fatalf("problem %+v", p)
			}
			if p.Error() != tt.code+": "+p.Detail {
				t.Fatalf("Error() = %q", p.Error())
			}
		})
	}
}

func TestProblemJSONShape(t *testing.T) {
	tests := []struct {
		p    *Problem
		want string
	}{
		{NotFound("No such claim."), `{"type":"https://cpor-claims.example/problems/not_found","title":"Not found","status":404,"detail":"No such claim.","code":"not_found","errors":[]}`},
		{BadRequest("Bad.", fe("products[0].id", "must be a string")), `{"type":"https://cpor-claims.example/problems/invalid_input","title":"Invalid input","status":400,"detail":"Bad.","code":"invalid_input","errors":[{"field":"products[0].id","message":"must be a string"}]}`},
	}
	for _, tt := range tests {
		for _, v := range []any{tt.p, *tt.p} {
			b, err := json.Marshal(v)
			if err != nil || string(b) != tt.want {
				t.Errorf("Marshal(%T) = %s, %v\nwant %s", v, b, err, tt.want)
			}
		}
	}
}

func TestErrorResponse(t *testing.T) {
	secret := errors.New("dynamodb: table cpor-prod-claims ConditionalCheckFailed for partner p-42")
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		errors []FieldError
		detail string
	}{
		{name: "problem", err: ClaimLocked("Only a Draft can change."), status: 409, code: "claim_locked", detail: "Only a Draft can change."},
		{name: "wrapped problem", err: fmt.Errorf("patch: %w", VersionMismatch("v2")), status: 412, code: "version_mismatch", detail: "v2"},
		{name: "problem literal without type/title", err: &Problem{Status: 403, Code: CodeForbidden, Detail: "no"}, status: 403, code: "forbidden"},
		{name: "problem with a bogus status", err: &Problem{Status: 200, Code: "x"}, status: 500, code: "internal_error"},
		{name: "problem with field errors", err: fmt.Errorf("create: %w", InvalidInput("Bad.", fe("customer.tenantId", "must be a GUID"))),
			status: 422, code: "invalid_input", errors: []FieldError{fe("customer.tenantId", "must be a GUID")}},
		{name: "nil problem", err: (*Problem)(nil), status: 500, code: "internal_error"},
		{name: "anything else", err: secret, status: 500, code: "internal_error"},
		{name: "nil", err: nil, status: 500, code: "internal_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := ErrorResponse(tt.err)
			if resp.StatusCode != tt.status || resp.Headers["Content-Type"] != "application/problem+json" || resp.IsBase64Encoded {
				t.Fatalf("response %d %v base64=%v", resp.StatusCode, resp.Headers, resp.IsBase64Encoded)
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal([]byte(resp.Body), &raw); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"type", "title", "status", "detail", "code", "errors"} {
				if _, ok := raw[k]; !ok {
					t.Fatalf("member %q missing in %s", k, resp.Body)
				}
			}
			var p Problem
			if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
				t.Fatal(err)
			}
			wantProblem(t, &p, tt.status, tt.code)
			if tt.errors != nil && !reflect.DeepEqual(p.Errors, tt.errors) {
				t.Fatalf("errors = %+v", p.Errors)
			}
			if tt.detail != "" && p.Detail != tt.detail {
				t.Fatalf("detail = %q", p.Detail)
			}
			if strings.Contains(resp.Body, "dynamodb") || strings.Contains(resp.Body, "p-42") {
				t.Fatalf("internal detail leaked: %s", resp.Body)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	resp := JSON(201, map[string]any{"name": "<b>x</b>"}, map[string]string{"ETag": `"3"`}, map[string]string{"location": "/claims/1"})
	if resp.StatusCode != 201 || resp.IsBase64Encoded {
		t.Fatalf("status %d", resp.StatusCode)
	}
	want := map[string]string{"Content-Type": "application/json", "ETag": `"3"`, "location": "/claims/1"}
	if !reflect.DeepEqual(resp.Headers, want) {
		t.Fatalf("headers %v", resp.Headers)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil || got["name"] != "<b>x</b>" {
		t.Fatalf("body %s: %v", resp.Body, err)
	}
	// A header of another case replaces the default rather than doubling it.
	resp = JSON(200, 1, map[string]string{"content-type": "application/vnd.x+json"})
	if len(resp.Headers) != 1 || resp.Headers["content-type"] != "application/vnd.x+json" {
		t.Fatalf("headers %v", resp.Headers)
	}
	// What cannot be marshalled is a 500 problem.
	resp = JSON(200, make(chan int))
	if resp.StatusCode != 500 || resp.Headers["Content-Type"] != ContentTypeProblem {
		t.Fatalf("unmarshalable: %d %v", resp.StatusCode, resp.Headers)
	}
}
