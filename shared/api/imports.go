package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/httpapi"
	"github.com/cpor-claims/claims/shared/imports"
	"github.com/cpor-claims/claims/shared/store"
)

// Route keys of the bulk import (API.md "Bulk import (v2)").
const (
	RouteImportTemplate = "GET /imports/template.csv"
	RouteStartImport    = "POST /imports"
	RouteListImports    = "GET /imports"
	RouteGetImport      = "GET /imports/{id}"
	RouteImportErrors   = "GET /imports/{id}/errors"
)

// ImportsAPI serves the bulk import routes (ImportsApiFunction).
type ImportsAPI struct {
	Uploads *imports.Uploads
}

// Routes are ImportsApiFunction's routes.
func (a *ImportsAPI) Routes() map[string]handler {
	return map[string]handler{
		RouteImportTemplate: a.template, RouteStartImport: a.start, RouteListImports: a.list,
		RouteGetImport: a.get, RouteImportErrors: a.errors,
	}
}

const contentTypeCSV = "text/csv; charset=utf-8"

func csvResponse(body, fileName string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Body: body, Headers: map[string]string{
		"Content-Type": contentTypeCSV, "Content-Disposition": `attachment; filename="` + fileName + `"`,
		"X-Content-Type-Options": "nosniff",
	}}
}

// importNotFound words a missing import as such (problemOf's not_found
// speaks of claims).
func importNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return httpapi.NotFound("No such import.")
	}
	return err
}

func (a *ImportsAPI) template(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if _, err := caller(req); err != nil {
		return nil200(), err
	}
	if err := noQuery(req); err != nil {
		return nil200(), err
	}
	var b strings.Builder
	if err := imports.Template(&b); err != nil {
		return nil200(), err
	}
	return csvResponse(b.String(), "claims-import-template.csv"), nil
}

func (a *ImportsAPI) start(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, err := writer(req)
	if err != nil {
		return nil200(), err
	}
	if err := noQuery(req); err != nil {
		return nil200(), err
	}
	var n imports.NewImport
	if _, err := httpapi.DecodeJSON(req, &n); err != nil {
		return nil200(), err
	}
	out, err := a.Uploads.Start(ctx, who, n, httpapi.RequestTime(req))
	if err != nil {
		return nil200(), err
	}
	return httpapi.JSON(http.StatusCreated, out, map[string]string{"Location": "/imports/" + out.Import.ID}), nil
}

func (a *ImportsAPI) list(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, err := caller(req)
	if err != nil {
		return nil200(), err
	}
	q, err := httpapi.Query(req, "limit", "cursor")
	if err != nil {
		return nil200(), err
	}
	limit, err := httpapi.ParseLimit(q["limit"])
	if err != nil {
		return nil200(), err
	}
	items, nextCur, err := a.Uploads.List(ctx, who, limit, q["cursor"])
	if err != nil {
		return nil200(), err
	}
	return page(items, nextCur), nil
}

func (a *ImportsAPI) get(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, err := caller(req)
	if err != nil {
		return nil200(), err
	}
	if err := noQuery(req); err != nil {
		return nil200(), err
	}
	im, err := a.Uploads.Get(ctx, who, req.PathParameters["id"])
	if err != nil {
		return nil200(), importNotFound(err)
	}
	return httpapi.JSON(http.StatusOK, imports.ViewOf(im)), nil
}

func (a *ImportsAPI) errors(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, err := caller(req)
	if err != nil {
		return nil200(), err
	}
	if err := noQuery(req); err != nil {
		return nil200(), err
	}
	id := req.PathParameters["id"]
	var b strings.Builder
	if err := a.Uploads.WriteErrors(ctx, who, id, &b); err != nil {
		return nil200(), importNotFound(err)
	}
	return csvResponse(b.String(), "import-"+id+"-errors.csv"), nil
}
