package api

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/ending"
	"github.com/cpor-claims/claims/shared/httpapi"
	"github.com/cpor-claims/claims/shared/store"
)

// AssociationsFunction's route keys (API.md "After approval (v2)").
const (
	RouteDisassociate = "POST /claims/{id}/disassociate"
	RouteAssociations = "GET /associations"
)

// After serves the partner routes of approved associations: ending one
// (disassociate) and the registry of what the partner holds. Mail sends
// the emails an end calls for.
type After struct {
	API
	Mail ending.Mailer
}

// AssociationsRoutes are AssociationsFunction's routes.
func (a *After) AssociationsRoutes() map[string]handler {
	return map[string]handler{
		RouteDisassociate: a.disassociate,
		RouteAssociations: a.associations,
	}
}

// disassociate is a step like dispute (submit.go), then the emails an end
// calls for.
func (a *After) disassociate(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, id, body, err := readStep[reasonBody](ctx, &a.API, req)
	if err != nil {
		return nil200(), err
	}
	now := httpapi.RequestTime(req)
	c, err := a.Service.Disassociate(ctx, who, id, body.Reason, now)
	if err == nil {
		ending.Notify(ctx, a.Service.Store, a.Mail, c, now, a.Service.Log)
	}
	return stepDone(http.StatusOK, c, err)
}

// associationColumns are the CSV export's columns of GET /associations,
// the members of a JSON row in the same order.
var associationColumns = []string{"tenantId", "domain", "customerName", "productId", "subscriptionId", "claimId", "mpnId", "since"}

// association is one row of GET /associations: one unit the partner
// holds. subscriptionId is null for a unit of a whole product or workload.
type association struct {
	TenantID       string  `json:"tenantId"`
	Domain         string  `json:"domain"`
	CustomerName   string  `json:"customerName"`
	ProductID      string  `json:"productId"`
	SubscriptionID *string `json:"subscriptionId"`
	ClaimID        string  `json:"claimId"`
	MPNID          string  `json:"mpnId"`
	Since          string  `json:"since"`
}

func associationOf(u store.Unit) association {
	a := association{
		TenantID: u.TenantID, Domain: u.Domain, CustomerName: u.CustomerName, ProductID: u.ProductID,
		ClaimID: u.ClaimID, MPNID: u.MPNID, Since: u.Since.UTC().Format(time.RFC3339),
	}
	if u.SubscriptionID != "" {
		sub := u.SubscriptionID
		a.SubscriptionID = &sub
	}
	return a
}

func (r association) row() []string {
	sub := ""
	if r.SubscriptionID != nil {
		sub = *r.SubscriptionID
	}
	return []string{r.TenantID, r.Domain, r.CustomerName, r.ProductID, sub, r.ClaimID, r.MPNID, r.Since}
}

// associations lists what the caller's partner holds now (any user of the
// partner): one row per held unit, filterable by tenant and product, as
// JSON or (Accept: text/csv) CSV.
func (a *After) associations(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, err := caller(req)
	if err != nil {
		return nil200(), err
	}
	q, err := httpapi.Query(req, "tenantId", "productId", "limit", "cursor")
	if err != nil {
		return nil200(), err
	}
	uq := store.UnitQuery{TenantID: q["tenantId"], ProductID: q["productId"], Cursor: q["cursor"]}
	var asCSV bool
	if uq.Limit, asCSV, err = listLimit(req, q["limit"]); err != nil {
		return nil200(), err
	}
	var bad []httpapi.FieldError
	if t := uq.TenantID; t != "" && !claim.IsGUID(t) {
		bad = append(bad, httpapi.FieldError{Field: "tenantId", Message: "must be a GUID"})
	}
	if p := uq.ProductID; p != "" {
		if _, ok := claim.LookupProduct(p); !ok {
			bad = append(bad, httpapi.FieldError{Field: "productId", Message: "is not a product of the catalog"})
		}
	}
	if len(bad) > 0 {
		return nil200(), badRequest(bad...)
	}
	pg, err := a.Service.Store.HeldBy(ctx, who.PartnerID, uq)
	if err != nil {
		return nil200(), err
	}
	items := make([]association, 0, len(pg.Items))
	for _, u := range pg.Items {
		items = append(items, associationOf(u))
	}
	if asCSV {
		rows := make([][]string, 0, len(items))
		for _, it := range items {
			rows = append(rows, it.row())
		}
		return httpapi.CSV(req, associationColumns, rows, pg.Next), nil
	}
	return page(items, pg.Next), nil
}
