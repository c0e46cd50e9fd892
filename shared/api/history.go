package api

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/httpapi"
	"github.com/cpor-claims/claims/shared/store"
)

// HistoryFunction's route keys, exactly as template.yaml declares them.
const (
	RouteListClaims       = "GET /claims"
	RouteGetClaim         = "GET /claims/{id}"
	RouteHistory          = "GET /claims/{id}/history"
	RouteProducts         = "GET /products"
	RouteEvidenceTemplate = "GET /evidence-template"
)

// HistoryRoutes are HistoryFunction's routes (reads).
func (a *API) HistoryRoutes() map[string]handler {
	return map[string]handler{
		RouteListClaims: a.list, RouteGetClaim: a.get, RouteHistory: a.history,
		RouteProducts: a.products, RouteEvidenceTemplate: a.evidenceTemplate,
	}
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
	var asCSV bool
	if lq.Limit, asCSV, err = listLimit(req, q["limit"]); err != nil {
		return nil200(), err
	}
	var bad []httpapi.FieldError
	if s := q["status"]; s != "" {
		if !claim.Status(s).Valid() {
			bad = append(bad, httpapi.FieldError{Field: "status", Message: "is not a status"})
		}
		lq.Status = claim.Status(s)
	}
	if t := q["tenantId"]; t != "" && !claim.IsGUID(t) {
		bad = append(bad, httpapi.FieldError{Field: "tenantId", Message: "must be a GUID"})
	}
	if len(bad) > 0 {
		return nil200(), badRequest(bad...)
	}
	pg, err := a.Service.List(ctx, who, lq)
	if err != nil {
		return nil200(), err
	}
	if asCSV {
		rows := make([][]string, 0, len(pg.Items))
		for i := range pg.Items {
			rows = append(rows, ClaimRow(&pg.Items[i]))
		}
		return httpapi.CSV(req, ClaimColumns, rows, pg.Next), nil
	}
	return page(pg.Items, pg.Next), nil
}

func (a *API) get(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, err := caller(req)
	if err != nil {
		return nil200(), err
	}
	if err := noQuery(req); err != nil {
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
	if err := noQuery(req); err != nil {
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
	if err := noQuery(req); err != nil {
		return nil200(), err
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"items": claim.Catalog()}), nil
}

func (a *API) evidenceTemplate(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if _, err := caller(req); err != nil {
		return nil200(), err
	}
	if err := noQuery(req); err != nil {
		return nil200(), err
	}
	u, err := a.Service.EvidenceTemplateURL(ctx)
	if err != nil {
		return nil200(), err
	}
	return httpapi.JSON(http.StatusOK, map[string]string{"url": u}), nil
}
