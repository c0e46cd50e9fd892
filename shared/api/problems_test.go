package api

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/httpapi"
	"github.com/cpor-claims/claims/shared/service"
	"github.com/cpor-claims/claims/shared/store"
)

// TestProblemOf pins the contract's status and code (API.md) of every
// domain error, as the router answers it.
func TestProblemOf(t *testing.T) {
	fe := func(f, m string) httpapi.FieldError { return httpapi.FieldError{Field: f, Message: m} }
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		errors []httpapi.FieldError
	}{
		{"problem as itself", fmt.Errorf("x: %w", httpapi.NotFound("No such import.")), 404, "not_found", nil},
		{"invalid values", fmt.Errorf("create: %w", &claim.ValidationError{Kind: claim.KindInvalid, Errors: []claim.FieldError{{Field: "customer.tenantId", Message: "must be a GUID"}}}),
			422, "invalid_input", []httpapi.FieldError{fe("customer.tenantId", "must be a GUID")}},
		{"incomplete", &claim.ValidationError{Kind: claim.KindIncomplete, Errors: []claim.FieldError{{Field: "name", Message: "is required"}, {Field: "evidence", Message: "is required"}}},
			422, "incomplete", []httpapi.FieldError{fe("name", "is required"), fe("evidence", "is required")}},
		{"not found", fmt.Errorf("get: %w", store.ErrNotFound), 404, "not_found", nil},
		{"not your MPN", service.ErrNotYourMPN, 403, "forbidden", nil},
		{"not an admin", service.ErrForbidden, 403, "forbidden", nil},
		{"locked", fmt.Errorf("patch: %w", claim.ErrLocked), 409, "claim_locked", nil},
		{"transition with a reason", &claim.TransitionError{From: claim.StatusApproved, Action: claim.ActionWithdrawn}, 409, "invalid_transition", nil},
		{"transition", claim.ErrInvalidTransition, 409, "invalid_transition", nil},
		{"idempotency", service.ErrIdempotencyConflict, 409, "idempotency_conflict", nil},
		{"version mismatch", fmt.Errorf("%w: the claim is at version 4", service.ErrVersionMismatch), 412, "version_mismatch", nil},
		{"lost race", store.ErrVersionConflict, 409, "concurrent_update", nil},
		{"bad cursor", store.ErrInvalidCursor, 400, "invalid_input", []httpapi.FieldError{fe("cursor", "is not a cursor this API issued")}},
		{"anything else", errors.New("dynamodb: throttled on table cpor-prod"), 500, "internal_error", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := httpapi.ProblemFrom(problemOf(tt.err))
			if p.Status != tt.status || p.Code != tt.code || p.Type != httpapi.ProblemBase+tt.code || p.Title == "" || p.Detail == "" {
				t.Fatalf("problem %+v, want %d %s", p, tt.status, tt.code)
			}
			if tt.errors != nil && !reflect.DeepEqual(p.Errors, tt.errors) {
				t.Fatalf("errors %+v, want %+v", p.Errors, tt.errors)
			}
			if strings.Contains(p.Detail, "dynamodb") {
				t.Fatalf("internal detail leaked: %q", p.Detail)
			}
		})
	}
}
