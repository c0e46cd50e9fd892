// Package api maps the partner endpoints of the HTTP contract (API.md) onto
// the service: it reads API Gateway HTTP API (payload 2.0) requests, checks
// the caller, decodes strictly and answers JSON or problem+json. Each
// function's routes are in the file named after it (create.go, submit.go,
// history.go, associations.go, imports.go); problems.go maps domain errors
// to problems, the only place that does.
package api

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/httpapi"
	"github.com/cpor-claims/claims/shared/service"
	"github.com/cpor-claims/claims/shared/store"
)

// API serves the partner routes.
type API struct {
	Service *service.Service
}

type handler = func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Router builds the function's router from its routes; every error a
// handler returns goes through problemOf.
func Router(routes map[string]handler) *httpapi.Router {
	r := httpapi.NewRouter()
	for key, h := range routes {
		r.Handle(key, func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			resp, err := h(ctx, req)
			if err != nil {
				return events.APIGatewayV2HTTPResponse{}, problemOf(err)
			}
			return resp, nil
		})
	}
	return r
}

func caller(req events.APIGatewayV2HTTPRequest) (service.Caller, error) {
	p, err := httpapi.PrincipalFrom(req)
	if err != nil {
		return service.Caller{}, err
	}
	return service.Caller{Sub: p.Sub, PartnerID: p.PartnerID, PartnerName: p.PartnerName, MPNIDs: p.MPNIDs, Admin: p.IsAdmin()}, nil
}

// writer is the caller of a write route, checked before anything of the
// request is read: authenticated (401), then an IncentivesAdmin (403). A
// reader learns nothing from a write route's input rules.
func writer(req events.APIGatewayV2HTTPRequest) (service.Caller, error) {
	who, err := caller(req)
	if err != nil {
		return who, err
	}
	return who, who.RequireAdmin()
}

// noQuery refuses every query parameter: the write routes and the reads of
// one resource take none (API.md: unknown query parameters are 400).
func noQuery(req events.APIGatewayV2HTTPRequest) error {
	_, err := httpapi.Query(req)
	return err
}

// input runs a write route's request checks on a claim: the query string
// (it takes none), then checks (headers, body), in order. Any failure is
// answered only once the claim is known to be the caller's partner's (404
// first), so ids leak nothing. The happy path reads nothing more.
func (a *API) input(ctx context.Context, who service.Caller, req events.APIGatewayV2HTTPRequest, id string, checks ...func() error) error {
	for _, check := range append([]func() error{func() error { return noQuery(req) }}, checks...) {
		if err := check(); err != nil {
			return a.Service.NotFoundFirst(ctx, who, id, err)
		}
	}
	return nil
}

// page is a JSON page of a listing: its items and the cursor of the next
// page, null on the last.
func page[T any](items []T, next string) events.APIGatewayV2HTTPResponse {
	var cursor *string
	if next != "" {
		cursor = &next
	}
	return httpapi.JSON(200, map[string]any{"items": items, "nextCursor": cursor})
}

// listLimit reads the limit of a listing that may also be exported as CSV
// (Accept: text/csv), whose pages may be larger.
func listLimit(req events.APIGatewayV2HTTPRequest, limit string) (int, bool, error) {
	if httpapi.WantsCSV(req) {
		n, err := httpapi.ParseCSVLimit(limit)
		return n, true, err
	}
	n, err := httpapi.ParseLimit(limit)
	return n, false, err
}

func claimResponse(status int, c *claim.Claim) events.APIGatewayV2HTTPResponse {
	return httpapi.JSON(status, c, map[string]string{"ETag": httpapi.ETag(c.Version)})
}

func badRequest(fields ...httpapi.FieldError) *httpapi.Problem {
	return httpapi.BadRequest("The request cannot be read.", fields...)
}

func idemKey(req events.APIGatewayV2HTTPRequest) (string, error) {
	k, sent := httpapi.LookupHeader(req, "Idempotency-Key")
	if !sent {
		return "", nil
	}
	// Given, it must be a key: a blank one is refused, not taken as none.
	k = strings.TrimSpace(k)
	if k == "" || len(k) > 128 || !utf8.ValidString(k) || strings.ContainsFunc(k, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return "", badRequest(httpapi.FieldError{Field: "Idempotency-Key", Message: "must be 1 to 128 visible ASCII characters"})
	}
	if strings.Contains(k, store.KeySeparator) {
		// It becomes part of a table key, whose parts "#" separates.
		return "", badRequest(httpapi.FieldError{Field: "Idempotency-Key", Message: "must not contain " + store.KeySeparator})
	}
	return k, nil
}

// nil200 is the zero response returned beside an error (the router answers
// the error).
func nil200() events.APIGatewayV2HTTPResponse { return events.APIGatewayV2HTTPResponse{} }
