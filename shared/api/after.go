package api

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/ending"
	"github.com/cpor-claims/claims/shared/httpapi"
)

// Route keys of the associations' second half (API.md "After approval (v2)").
const (
	RouteDisassociate = "POST /claims/{id}/disassociate"
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
	}
}

func (a *After) disassociate(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
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
	now := httpapi.RequestTime(req)
	c, err := a.Service.Disassociate(ctx, who, id, body.Reason, now)
	if err != nil {
		return nil200(), err
	}
	ending.Notify(ctx, a.Service.Store, a.Mail, c, now, a.Service.Log)
	return claimResponse(http.StatusOK, c), nil
}
