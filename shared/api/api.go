// Package api maps the partner endpoints of the HTTP contract (API.md) onto
// the service: it reads API Gateway HTTP API (payload 2.0) requests, checks
// the caller, decodes strictly and answers JSON or problem+json. Each
// function registers the routes it serves (Routes*).
package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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

// Route keys, exactly as template.yaml declares them.
const (
	RouteCreateClaim      = "POST /claims"
	RoutePatchClaim       = "PATCH /claims/{id}"
	RouteDeleteClaim      = "DELETE /claims/{id}"
	RouteAddEvidence      = "POST /claims/{id}/evidence"
	RouteSubmit           = "POST /claims/{id}/submit"
	RouteRespond          = "POST /claims/{id}/respond"
	RouteWithdraw         = "POST /claims/{id}/withdraw"
	RouteDispute          = "POST /claims/{id}/dispute"
	RouteListClaims       = "GET /claims"
	RouteGetClaim         = "GET /claims/{id}"
	RouteHistory          = "GET /claims/{id}/history"
	RouteProducts         = "GET /products"
	RouteEvidenceTemplate = "GET /evidence-template"
)

// CreateRoutes are CreateFunction's routes (drafts and evidence).
func (a *API) CreateRoutes() map[string]handler {
	return map[string]handler{
		RouteCreateClaim: a.create, RoutePatchClaim: a.patch, RouteDeleteClaim: a.delete, RouteAddEvidence: a.addEvidence,
	}
}

// SubmitRoutes are SubmitFunction's routes (the partner's lifecycle steps).
func (a *API) SubmitRoutes() map[string]handler {
	return map[string]handler{
		RouteSubmit: a.submit, RouteRespond: a.respond, RouteWithdraw: a.withdraw, RouteDispute: a.dispute,
	}
}

// HistoryRoutes are HistoryFunction's routes (reads).
func (a *API) HistoryRoutes() map[string]handler {
	return map[string]handler{
		RouteListClaims: a.list, RouteGetClaim: a.get, RouteHistory: a.history,
		RouteProducts: a.products, RouteEvidenceTemplate: a.evidenceTemplate,
	}
}

// Router builds the function's router from its routes.
func Router(routes map[string]handler) *httpapi.Router {
	r := httpapi.NewRouter()
	for key, h := range routes {
		h := h
		r.Handle(key, func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			resp, err := h(ctx, req)
			if err != nil {
				return events.APIGatewayV2HTTPResponse{}, toProblem(err)
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

func claimResponse(status int, c *claim.Claim) events.APIGatewayV2HTTPResponse {
	return httpapi.JSON(status, c, map[string]string{"ETag": httpapi.ETag(c.Version)})
}

// problem builds a problem+json error.
func problem(status int, code, title, detail string, fields ...claim.FieldError) *httpapi.Problem {
	return &httpapi.Problem{
		Type: "https://cpor-claims.example/problems/" + code, Title: title, Status: status,
		Detail: detail, Code: code, Errors: fields,
	}
}

// toProblem maps domain errors to the contract's status and code.
func toProblem(err error) error {
	var p *httpapi.Problem
	var ve *claim.ValidationError
	var te *claim.TransitionError
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &ve):
		if ve.Kind == claim.KindIncomplete {
			return problem(http.StatusUnprocessableEntity, "incomplete", "The claim is incomplete", "Complete the fields listed in errors, then submit again.", ve.Errors...)
		}
		return problem(http.StatusUnprocessableEntity, "invalid_input", "Invalid input", "One or more values break a rule.", ve.Errors...)
	case errors.Is(err, store.ErrNotFound):
		return problem(http.StatusNotFound, "not_found", "Not found", "No such claim.")
	case errors.Is(err, service.ErrNotYourMPN):
		return problem(http.StatusForbidden, "forbidden", "Forbidden", "The claim's MPN ID is not one of the MPN IDs your token carries (mpn_ids).")
	case errors.Is(err, service.ErrForbidden):
		return problem(http.StatusForbidden, "forbidden", "Forbidden", "Changing claims needs the IncentivesAdmin role.")
	case errors.Is(err, claim.ErrLocked):
		return problem(http.StatusConflict, "claim_locked", "Claim locked", "Only a Draft can be changed; evidence may be added only while the claim is a Draft, needs information, or may still be disputed.")
	case errors.As(err, &te):
		return problem(http.StatusConflict, "invalid_transition", "Invalid transition", te.Error())
	case errors.Is(err, claim.ErrInvalidTransition):
		return problem(http.StatusConflict, "invalid_transition", "Invalid transition", "The claim's status does not allow this action.")
	case errors.Is(err, service.ErrIdempotencyConflict):
		return problem(http.StatusConflict, "idempotency_conflict", "Idempotency conflict", "This Idempotency-Key was used with another request.")
	case errors.Is(err, service.ErrVersionMismatch):
		return problem(http.StatusPreconditionFailed, "version_mismatch", "Version mismatch", err.Error())
	case errors.Is(err, store.ErrVersionConflict):
		return problem(http.StatusConflict, "concurrent_update", "Concurrent update", "The claim was being changed by another request; read it again and retry.")
	case errors.Is(err, store.ErrInvalidCursor):
		return problem(http.StatusBadRequest, "invalid_input", "Invalid input", "The cursor is not valid.", claim.FieldError{Field: "cursor", Message: "is not a cursor this API issued"})
	}
	return err
}

func badRequest(fields ...claim.FieldError) *httpapi.Problem {
	return problem(http.StatusBadRequest, "invalid_input", "Invalid input", "The request cannot be read.", fields...)
}

// requestHash identifies a create's body for Idempotency-Key: the SHA-256
// of its compact JSON (white space does not make another request).
func requestHash(body []byte) string {
	compact := body
	if c, err := compactJSON(body); err == nil {
		compact = c
	}
	sum := sha256.Sum256(compact)
	return hex.EncodeToString(sum[:])
}

func compactJSON(body []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, err
	}
	return json.Marshal(v) // map keys sorted: key order does not matter either
}

func idemKey(req events.APIGatewayV2HTTPRequest) (string, error) {
	if !hasHeader(req, "idempotency-key") {
		return "", nil
	}
	// Given, it must be a key: a blank one is refused, not taken as none.
	k := strings.TrimSpace(header(req, "idempotency-key"))
	if k == "" || len(k) > 128 || !utf8.ValidString(k) || strings.ContainsFunc(k, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return "", badRequest(claim.FieldError{Field: "Idempotency-Key", Message: "must be 1 to 128 visible ASCII characters"})
	}
	if strings.Contains(k, store.KeySeparator) {
		// It becomes part of a table key, whose parts "#" separates.
		return "", badRequest(claim.FieldError{Field: "Idempotency-Key", Message: "must not contain " + store.KeySeparator})
	}
	return k, nil
}

func hasHeader(req events.APIGatewayV2HTTPRequest, name string) bool {
	for k := range req.Headers {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

func header(req events.APIGatewayV2HTTPRequest, name string) string {
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// givenSubscriptions refuses a subscriptionId given as null or blank in a
// create body or a merge patch: given, it must be a GUID (422), as the
// OpenAPI document says. Left out, a product covers all of the tenant's
// subscriptions. (Decoded into a string, null and blank would read as left
// out, and a product listed with and without them as listed twice.)
func givenSubscriptions(body []byte) error {
	var doc struct {
		Products []map[string]json.RawMessage `json:"products"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return nil // not this shape: the decoder reports it
	}
	var errs []claim.FieldError
	for i, p := range doc.Products {
		raw, ok := p["subscriptionId"]
		if !ok {
			continue
		}
		var v *string
		if json.Unmarshal(raw, &v) == nil && (v == nil || strings.TrimSpace(*v) == "") {
			errs = append(errs, claim.FieldError{Field: fmt.Sprintf("products[%d].subscriptionId", i), Message: "must be a GUID (leave it out for all subscriptions)"})
		}
	}
	if len(errs) > 0 {
		return &claim.ValidationError{Kind: claim.KindInvalid, Errors: errs}
	}
	return nil
}
