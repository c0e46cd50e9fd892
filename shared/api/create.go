package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/httpapi"
	"github.com/cpor-claims/claims/shared/service"
)

// CreateFunction's route keys, exactly as template.yaml declares them.
const (
	RouteCreateClaim = "POST /claims"
	RoutePatchClaim  = "PATCH /claims/{id}"
	RouteDeleteClaim = "DELETE /claims/{id}"
	RouteAddEvidence = "POST /claims/{id}/evidence"
)

// CreateRoutes are CreateFunction's routes (drafts and evidence).
func (a *API) CreateRoutes() map[string]handler {
	return map[string]handler{
		RouteCreateClaim: a.create, RoutePatchClaim: a.patch, RouteDeleteClaim: a.delete, RouteAddEvidence: a.addEvidence,
	}
}

func (a *API) create(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, err := writer(req)
	if err != nil {
		return nil200(), err
	}
	if err := noQuery(req); err != nil {
		return nil200(), err
	}
	var f service.Fields
	body, err := httpapi.DecodeJSON(req, &f)
	if err != nil {
		return nil200(), err
	}
	if err := givenSubscriptions(body); err != nil {
		return nil200(), err
	}
	key, err := idemKey(req)
	if err != nil {
		return nil200(), err
	}
	var idem *service.Idempotency
	if key != "" {
		idem = &service.Idempotency{Key: key, RequestHash: requestHash(body)}
	}
	c, _, err := a.Service.Create(ctx, who, f, idem, httpapi.RequestTime(req))
	if err != nil {
		return nil200(), err
	}
	resp := claimResponse(http.StatusCreated, c)
	resp.Headers["Location"] = "/claims/" + c.ID
	return resp, nil
}

func (a *API) patch(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, err := writer(req)
	if err != nil {
		return nil200(), err
	}
	id := req.PathParameters["id"]
	var patch []byte
	var ifMatch *int64
	err = a.input(ctx, who, req, id,
		func() (err error) {
			patch, err = httpapi.ReadJSONBody(req, httpapi.ContentTypeJSON, httpapi.ContentTypeMergePatch)
			return err
		},
		func() error {
			v, ok, err := httpapi.IfMatch(req)
			if ok {
				ifMatch = &v
			}
			return err
		})
	if err != nil {
		return nil200(), err
	}
	edit := func(cur service.Fields) (service.Fields, error) {
		if err := givenSubscriptions(patch); err != nil {
			return cur, err
		}
		orig, err := json.Marshal(cur)
		if err != nil {
			return cur, err
		}
		merged, err := httpapi.MergePatch(orig, patch)
		if err != nil {
			return cur, err
		}
		var next service.Fields
		if err := httpapi.DecodeStrict(merged, &next); err != nil {
			return cur, err
		}
		return next, nil
	}
	c, err := a.Service.Update(ctx, who, id, ifMatch, edit, httpapi.RequestTime(req))
	if err != nil {
		return nil200(), err
	}
	return claimResponse(http.StatusOK, c), nil
}

func (a *API) delete(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, err := writer(req)
	if err != nil {
		return nil200(), err
	}
	id := req.PathParameters["id"]
	if err := a.input(ctx, who, req, id); err != nil {
		return nil200(), err
	}
	if err := a.Service.Delete(ctx, who, id); err != nil {
		return nil200(), err
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNoContent, Headers: map[string]string{}}, nil
}

func (a *API) addEvidence(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, err := writer(req)
	if err != nil {
		return nil200(), err
	}
	id := req.PathParameters["id"]
	var n service.NewEvidence
	err = a.input(ctx, who, req, id,
		func() error { _, err := httpapi.DecodeJSON(req, &n); return err })
	if err != nil {
		return nil200(), err
	}
	out, err := a.Service.AddEvidence(ctx, who, id, n, httpapi.RequestTime(req))
	if err != nil {
		return nil200(), err
	}
	return httpapi.JSON(http.StatusCreated, out), nil
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
