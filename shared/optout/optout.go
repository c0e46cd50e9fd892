// Package optout serves the customer's opt-out page (GET shows, POST
// records), reached from the emailed link; the link's token is the only
// credential. GET never changes anything: mail scanners follow links.
package optout

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/httpapi"
	"github.com/cpor-claims/claims/shared/notice"
	"github.com/cpor-claims/claims/shared/store"
)

// style is the page's only styling, allowed by its hash in the CSP.
const style = `body{font-family:Segoe UI,Helvetica,Arial,sans-serif;line-height:1.5;color:#1b1b1b;margin:0;background:#f6f6f6}` +
	`main{max-width:40rem;margin:0 auto;padding:1.25rem;background:#fff;min-height:100vh;box-sizing:border-box}` +
	`h1{font-size:1.5rem}code{word-break:break-all}` +
	`button{font-size:1.1rem;padding:.8rem 1.2rem;border:0;border-radius:.3rem;background:#a4262c;color:#fff;width:100%;max-width:24rem;cursor:pointer}`

var (
	csp = func() string {
		sum := sha256.Sum256([]byte(style))
		return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
			"'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	}()
)

// Partners emails the partner contact when the customer opts out.
type Partners interface {
	NotifyPartner(ctx context.Context, c *claim.Claim) error
}

// Handler serves GET and POST /opt-out/{token}.
type Handler struct {
	Store    Store
	Mail     Partners
	Location *time.Location
	Clock    func() time.Time
	Log      *slog.Logger
	// CoolDown is how long after an opt-out the partner's new claims on the
	// same tenant and products are rejected (customer_declined_recently).
	CoolDown time.Duration
}

type view struct {
	State, Title, PartnerName, CustomerName, Domain, TenantID, Deadline string
	Products                                                            []string
}

var customer = claim.Actor{Type: claim.ActorCustomer, ID: "customer"}

func productIDs(c *claim.Claim) []string {
	out := make([]string, 0, len(c.Products))
	for _, p := range c.Products {
		out = append(out, p.ID)
	}
	return out
}

// Handle answers one request.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	now := httpapi.RequestTime(req, h.Clock)
	method := req.RequestContext.HTTP.Method
	if method != http.MethodGet && method != http.MethodPost {
		return h.render(http.StatusMethodNotAllowed, page(view{State: "error", Title: "Not allowed"})), nil
	}
	notFound := page(view{State: "notfound", Title: "Link not valid"})
	tok, c, err := h.link(ctx, req, "")
	if errors.Is(err, store.ErrNotFound) {
		return h.render(http.StatusNotFound, notFound), nil
	}
	if err != nil {
		return h.fail(ctx, err), nil
	}
	if status, v, ok := h.answer(c, tok, now, method); ok {
		return h.render(status, page(v)), nil
	}
	// POST on a link that counts: opt out, and what the customer declined
	// in the same transaction (this partner, this tenant, these products,
	// until the cool-down ends). Decided meanwhile (finalize, a double
	// click): the claim as it now is answers.
	var movedStatus int // the page of a claim that moved on meanwhile
	var movedView view
	next, err := store.Transition(ctx, h.Store, c.ID, store.Step{
		From: c, Action: claim.ActionOptedOut, Actor: customer, At: now,
		Check: func(cur *claim.Claim) error {
			var moved bool
			if movedStatus, movedView, moved = h.answer(cur, tok, now, method); moved {
				return errMoved
			}
			return nil
		},
		Edit: func(next *claim.Claim, _ *claim.Event) ([]store.Op, error) {
			next.StatusReason = &claim.StatusReason{Code: claim.ReasonOptedOut, Message: "The customer opted out of the association."}
			return h.Store.DeclinedOps(store.Declined{TenantID: next.Customer.TenantID, PartnerID: next.PartnerID, ClaimID: next.ID,
				Products: productIDs(next), Until: now.Add(h.CoolDown)})
		}})
	switch {
	case errors.Is(err, errMoved):
		return h.render(movedStatus, page(movedView)), nil
	case errors.Is(err, store.ErrNotFound):
		return h.render(http.StatusNotFound, notFound), nil
	case err != nil:
		return h.fail(ctx, err), nil
	}
	_ = notice.Partner(ctx, h.Store, h.Mail, next, h.Clock(), h.Log)
	v := h.view(next)
	v.State, v.Title = "done", "You have opted out"
	return h.render(http.StatusOK, page(v)), nil
}

// errMoved: the claim no longer awaits this link's opt-out.
var errMoved = errors.New("the claim moved on")

// answer is the page (status and view) for claim c reached through tok,
// unless it is a POST that may opt out (ok false): the confirmation when
// this very notification opted out, gone when the link no longer counts,
// the form for a GET.
func (h *Handler) answer(c *claim.Claim, tok *store.Token, now time.Time, method string) (int, view, bool) {
	v := h.view(c)
	switch {
	case c.Status == claim.StatusOptedOut && c.Version == tok.Version+1:
		// Opted out through this very notification: the same confirmation.
		v.State, v.Title = "done", "You have opted out"
		return http.StatusOK, v, true
	case c.Status != claim.StatusPendingCustomer || !tok.Valid(c.Version) || !now.Before(tok.Deadline):
		v.State, v.Title = "gone", "This link has expired"
		return http.StatusGone, v, true
	case method == http.MethodGet:
		v.State, v.Title = "form", "Partner association request"
		return http.StatusOK, v, true
	}
	return 0, v, false
}

// link reads the request's link: its token, which must be of kind ("" for
// an opt-out link, store.TokenDecline for a decline link), and the claim
// it was issued for. A malformed or unknown token, a token of the other
// kind, and a claim no longer there are all store.ErrNotFound: to the
// customer, a link that does not exist.
func (h *Handler) link(ctx context.Context, req events.APIGatewayV2HTTPRequest, kind string) (*store.Token, *claim.Claim, error) {
	token := req.PathParameters["token"]
	if !claim.WellFormedToken(token) {
		return nil, nil, store.ErrNotFound
	}
	tok, err := h.Store.GetToken(ctx, claim.HashToken(token))
	if err != nil {
		return nil, nil, err
	}
	if tok.Kind != kind {
		return nil, nil, store.ErrNotFound // each page takes only its own links
	}
	c, err := h.Store.Get(ctx, tok.ClaimID)
	if err != nil {
		return nil, nil, err
	}
	return tok, c, nil
}

func (h *Handler) view(c *claim.Claim) view {
	v := view{PartnerName: c.PartnerName, CustomerName: c.Customer.Name, Domain: c.Customer.Domain, TenantID: c.Customer.TenantID}
	if v.PartnerName == "" {
		v.PartnerName = c.PartnerID
	}
	v.Products = claim.ProductLabels(c)
	if c.OptOutDeadline != nil {
		loc := h.Location
		if loc == nil {
			loc = time.UTC
		}
		v.Deadline = claim.LastDayToAct(*c.OptOutDeadline, loc)
	}
	return v
}

// fail logs err and answers the page's error state (500).
func (h *Handler) fail(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	h.Log.ErrorContext(ctx, "opt-out failed", "error", err)
	return h.render(http.StatusInternalServerError, page(view{State: "error", Title: "Something went wrong"}))
}

// render answers a customer page (the opt-out or the decline page).
func (h *Handler) render(status int, p templ.Component) events.APIGatewayV2HTTPResponse {
	var b bytes.Buffer
	if err := p.Render(context.Background(), &b); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString("<!DOCTYPE html><title>Error</title><p>Something went wrong.</p>")
	}
	return pageResponse(status, b.String())
}

// pageResponse is a customer page with its security headers: the CSP
// (the one style by its hash, no script), noindex, no referrer, no framing,
// no caching.
func pageResponse(status int, body string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers: map[string]string{
			"Content-Type":            "text/html; charset=utf-8",
			"Content-Security-Policy": csp,
			"Referrer-Policy":         "no-referrer",
			"X-Robots-Tag":            "noindex, nofollow",
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Cache-Control":           "no-store",
		},
		Body: body,
	}
}
