package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/httpapi"
	"github.com/cpor-claims/claims/shared/service"
	"github.com/cpor-claims/claims/shared/store"
)

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
			patch, err = httpapi.ReadJSONBody(req, "application/json", "application/merge-patch+json")
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

func (a *API) submit(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, err := writer(req)
	if err != nil {
		return nil200(), err
	}
	id := req.PathParameters["id"]
	err = a.input(ctx, who, req, id,
		func() error { return httpapi.EmptyOrJSONObject(req) })
	if err != nil {
		return nil200(), err
	}
	c, err := a.Service.Submit(ctx, who, id, httpapi.RequestTime(req))
	if err != nil {
		return nil200(), err
	}
	return claimResponse(http.StatusAccepted, c), nil
}

func (a *API) respond(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, err := writer(req)
	if err != nil {
		return nil200(), err
	}
	id := req.PathParameters["id"]
	var body struct {
		Comment string `json:"comment"`
	}
	err = a.input(ctx, who, req, id,
		func() error { _, err := httpapi.DecodeJSON(req, &body); return err })
	if err != nil {
		return nil200(), err
	}
	c, err := a.Service.Respond(ctx, who, id, body.Comment, httpapi.RequestTime(req))
	if err != nil {
		return nil200(), err
	}
	return claimResponse(http.StatusAccepted, c), nil
}

func (a *API) withdraw(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, err := writer(req)
	if err != nil {
		return nil200(), err
	}
	id := req.PathParameters["id"]
	err = a.input(ctx, who, req, id,
		func() error { return httpapi.EmptyOrJSONObject(req) })
	if err != nil {
		return nil200(), err
	}
	c, err := a.Service.Withdraw(ctx, who, id, httpapi.RequestTime(req))
	if err != nil {
		return nil200(), err
	}
	return claimResponse(http.StatusOK, c), nil
}

func (a *API) dispute(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, err := writer(req)
	if err != nil {
		return nil200(), err
	}
	id := req.PathParameters["id"]
	var body struct {
		Reason string `json:"reason"`
	}
	err = a.input(ctx, who, req, id,
		func() error { _, err := httpapi.DecodeJSON(req, &body); return err })
	if err != nil {
		return nil200(), err
	}
	c, err := a.Service.Dispute(ctx, who, id, body.Reason, httpapi.RequestTime(req))
	if err != nil {
		return nil200(), err
	}
	return claimResponse(http.StatusAccepted, c), nil
}

func (a *API) list(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, err := caller(req)
	if err != nil {
		return nil200(), err
	}
	q, err := httpapi.Query(req, "status", "tenantId", "limit", "cursor")
	if err != nil {
		return nil200(), err
	}
	lq := store.ListQuery{Cursor: q["cursor"], TenantID: q["tenantId"]}
	asCSV := httpapi.WantsCSV(req)
	if asCSV {
		lq.Limit, err = httpapi.ParseCSVLimit(q["limit"])
	} else {
		lq.Limit, err = httpapi.ParseLimit(q["limit"])
	}
	if err != nil {
		return nil200(), err
	}
	var bad []claim.FieldError
	if s := q["status"]; s != "" {
		if !claim.Status(s).Valid() {
			bad = append(bad, claim.FieldError{Field: "status", Message: "is not a status"})
		}
		lq.Status = claim.Status(s)
	}
	if t := q["tenantId"]; t != "" && !claim.IsGUID(t) {
		bad = append(bad, claim.FieldError{Field: "tenantId", Message: "must be a GUID"})
	}
	if len(bad) > 0 {
		return nil200(), badRequest(bad...)
	}
	page, err := a.Service.List(ctx, who, lq)
	if err != nil {
		return nil200(), err
	}
	if asCSV {
		rows := make([][]string, 0, len(page.Items))
		for i := range page.Items {
			rows = append(rows, ClaimRow(&page.Items[i]))
		}
		return httpapi.CSV(req, ClaimColumns, rows, page.Next), nil
	}
	var next *string
	if page.Next != "" {
		next = &page.Next
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"items": page.Items, "nextCursor": next}), nil
}

func (a *API) get(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, err := caller(req)
	if err != nil {
		return nil200(), err
	}
	if _, err := httpapi.Query(req); err != nil {
		return nil200(), err
	}
	c, err := a.Service.Get(ctx, who, req.PathParameters["id"])
	if err != nil {
		return nil200(), err
	}
	return claimResponse(http.StatusOK, c), nil
}

func (a *API) history(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, err := caller(req)
	if err != nil {
		return nil200(), err
	}
	if _, err := httpapi.Query(req); err != nil {
		return nil200(), err
	}
	evs, err := a.Service.History(ctx, who, req.PathParameters["id"])
	if err != nil {
		return nil200(), err
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"items": evs}), nil
}

func (a *API) products(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if _, err := caller(req); err != nil {
		return nil200(), err
	}
	if _, err := httpapi.Query(req); err != nil {
		return nil200(), err
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"items": claim.Catalog()}), nil
}

func (a *API) evidenceTemplate(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if _, err := caller(req); err != nil {
		return nil200(), err
	}
	if _, err := httpapi.Query(req); err != nil {
		return nil200(), err
	}
	u, err := a.Service.EvidenceTemplateURL(ctx)
	if err != nil {
		return nil200(), err
	}
	return httpapi.JSON(http.StatusOK, map[string]string{"url": u}), nil
}

// nil200 is the zero response returned beside an error (the router answers
// the error).
func nil200() events.APIGatewayV2HTTPResponse { return events.APIGatewayV2HTTPResponse{} }
