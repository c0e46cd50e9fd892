package api

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/httpapi"
	"github.com/cpor-claims/claims/shared/service"
)

// SubmitFunction's route keys, exactly as template.yaml declares them.
const (
	RouteSubmit   = "POST /claims/{id}/submit"
	RouteRespond  = "POST /claims/{id}/respond"
	RouteWithdraw = "POST /claims/{id}/withdraw"
	RouteDispute  = "POST /claims/{id}/dispute"
)

// SubmitRoutes are SubmitFunction's routes (the partner's lifecycle steps).
func (a *API) SubmitRoutes() map[string]handler {
	return map[string]handler{
		RouteSubmit: a.submit, RouteRespond: a.respond, RouteWithdraw: a.withdraw, RouteDispute: a.dispute,
	}
}

// Bodies of the steps: none (an empty body or {}), or one statement.
type (
	noBody      struct{}
	commentBody struct {
		Comment string `json:"comment"`
	}
	reasonBody struct {
		Reason string `json:"reason"`
	}
)

// readStep reads a partner's step on one claim (submit, respond, withdraw,
// dispute, disassociate): the writer, the claim's id and the body B, read
// strictly, every input failure answered 404 first (input). A step without
// input (noBody) also takes an empty body.
func readStep[B any](ctx context.Context, a *API, req events.APIGatewayV2HTTPRequest) (service.Caller, string, B, error) {
	var body B
	who, err := writer(req)
	if err != nil {
		return who, "", body, err
	}
	id := req.PathParameters["id"]
	var opts []httpapi.DecodeOption
	if _, none := any(body).(noBody); none {
		opts = append(opts, httpapi.AllowEmptyBody())
	}
	err = a.input(ctx, who, req, id, func() error { _, err := httpapi.DecodeJSON(req, &body, opts...); return err })
	return who, id, body, err
}

// stepDone answers a step: the claim as it now is, or the error.
func stepDone(status int, c *claim.Claim, err error) (events.APIGatewayV2HTTPResponse, error) {
	if err != nil {
		return nil200(), err
	}
	return claimResponse(status, c), nil
}

func (a *API) submit(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, id, _, err := readStep[noBody](ctx, a, req)
	if err != nil {
		return nil200(), err
	}
	c, err := a.Service.Submit(ctx, who, id, httpapi.RequestTime(req))
	return stepDone(http.StatusAccepted, c, err)
}

func (a *API) respond(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, id, body, err := readStep[commentBody](ctx, a, req)
	if err != nil {
		return nil200(), err
	}
	c, err := a.Service.Respond(ctx, who, id, body.Comment, httpapi.RequestTime(req))
	return stepDone(http.StatusAccepted, c, err)
}

func (a *API) withdraw(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, id, _, err := readStep[noBody](ctx, a, req)
	if err != nil {
		return nil200(), err
	}
	c, err := a.Service.Withdraw(ctx, who, id, httpapi.RequestTime(req))
	return stepDone(http.StatusOK, c, err)
}

func (a *API) dispute(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	who, id, body, err := readStep[reasonBody](ctx, a, req)
	if err != nil {
		return nil200(), err
	}
	c, err := a.Service.Dispute(ctx, who, id, body.Reason, httpapi.RequestTime(req))
	return stepDone(http.StatusAccepted, c, err)
}
