package optout

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/ending"
	"github.com/cpor-claims/claims/shared/httpapi"
	"github.com/cpor-claims/claims/shared/notice"
	"github.com/cpor-claims/claims/shared/store"
)

// declineView is what the decline page shows.
type declineView struct {
	view
	Since string
}

// Decline serves GET and POST /decline/{token} (v2): the customer ends an
// approved association at any time, from the link of the approval email.
// GET shows the page and changes nothing (mail scanners follow links);
// POST ends the association (customer_declined) in one transaction that
// frees its units, and answers the confirmation; repeating it changes
// nothing. Unknown link 404; an association ended otherwise 410. The same
// headers as the opt-out page (CSP, noindex, no referrer, no framing).
func (h *Handler) Decline(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	now := httpapi.RequestTime(req, h.Clock)
	method := req.RequestContext.HTTP.Method
	if method != http.MethodGet && method != http.MethodPost {
		return h.render(http.StatusMethodNotAllowed, declinePage(declineView{view: view{State: "error", Title: "Not allowed"}})), nil
	}
	tok, c, err := h.link(ctx, req, store.TokenDecline)
	if errors.Is(err, store.ErrNotFound) {
		return h.render(http.StatusNotFound, declinePage(declineView{view: view{State: "notfound", Title: "Link not valid"}})), nil
	}
	if err != nil {
		return h.failDecline(ctx, err), nil
	}
	if c.Status == claim.StatusApproved && method == http.MethodPost {
		ended, err := ending.End(ctx, h.Store, c.ID, claim.ActionDeclined, customer, now, nil, nil)
		var te *claim.TransitionError
		switch {
		case err == nil:
			_ = notice.Partner(ctx, h.Store, h.Mail, ended, h.Clock(), h.Log)
			c = ended
		case errors.As(err, &te):
			// Ended meanwhile (a double click, the partner, billing): read
			// what it became.
			if c, err = h.Store.Get(ctx, tok.ClaimID); err != nil {
				return h.failDecline(ctx, err), nil
			}
		default:
			return h.failDecline(ctx, err), nil
		}
	}
	v := h.declineView(c)
	switch {
	case c.Status == claim.StatusApproved:
		v.State, v.Title = "form", "Your partner association"
		return h.render(http.StatusOK, declinePage(v)), nil
	case c.Status == claim.StatusEnded && c.StatusReason != nil && c.StatusReason.Code == claim.ReasonCustomerDeclined:
		// Ended by the customer: a repeated POST gets the same confirmation
		// (200), whichever request committed; the link opened again says so
		// too, as an ended association's page (410, API.md).
		v.State, v.Title = "done", "You have ended the association"
		if method == http.MethodGet {
			return h.render(http.StatusGone, declinePage(v)), nil
		}
		return h.render(http.StatusOK, declinePage(v)), nil
	default:
		v.State, v.Title = "gone", "This association has ended"
		return h.render(http.StatusGone, declinePage(v)), nil
	}
}

func (h *Handler) declineView(c *claim.Claim) declineView {
	v := declineView{view: h.view(c)}
	if c.DecidedAt != nil {
		v.Since = FormatDay(*c.DecidedAt, h.loc())
	}
	return v
}

func (h *Handler) loc() *time.Location {
	if h.Location == nil {
		return time.UTC
	}
	return h.Location
}

// FormatDay names a day in the business time zone: "Tuesday 8 December 2026".
func FormatDay(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("Monday 2 January 2006")
}

func (h *Handler) failDecline(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	h.Log.ErrorContext(ctx, "decline failed", "error", err)
	return h.render(http.StatusInternalServerError, declinePage(declineView{view: view{State: "error", Title: "Something went wrong"}}))
}

// Route serves OptOutFunction's routes: /decline/{token} by Decline, the
// rest (/opt-out/{token}) by Handle.
func (h *Handler) Route(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	path := req.RawPath
	if path == "" {
		path = req.RequestContext.HTTP.Path
	}
	if strings.HasPrefix(path, "/decline/") {
		return h.Decline(ctx, req)
	}
	return h.Handle(ctx, req)
}
