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

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/claim"
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
	Store    *store.Store
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
	now := h.Clock().UTC()
	if req.RequestContext.TimeEpoch > 0 {
		now = time.UnixMilli(req.RequestContext.TimeEpoch).UTC()
	}
	token := req.PathParameters["token"]
	method := req.RequestContext.HTTP.Method
	if method != http.MethodGet && method != http.MethodPost {
		return h.render(http.StatusMethodNotAllowed, view{State: "error", Title: "Not allowed"}), nil
	}
	if !claim.WellFormedToken(token) {
		return h.render(http.StatusNotFound, view{State: "notfound", Title: "Link not valid"}), nil
	}
	for attempt := 0; attempt < 3; attempt++ {
		tok, err := h.Store.GetToken(ctx, claim.HashToken(token), now)
		if err == nil && tok.Kind != "" {
			err = store.ErrNotFound // a decline link is not an opt-out link
		}
		if errors.Is(err, store.ErrNotFound) {
			return h.render(http.StatusNotFound, view{State: "notfound", Title: "Link not valid"}), nil
		}
		if err != nil {
			return h.fail(ctx, err), nil
		}
		c, err := h.Store.Get(ctx, tok.ClaimID)
		if errors.Is(err, store.ErrNotFound) {
			return h.render(http.StatusNotFound, view{State: "notfound", Title: "Link not valid"}), nil
		}
		if err != nil {
			return h.fail(ctx, err), nil
		}
		v := h.view(c)
		switch {
		case c.Status == claim.StatusOptedOut && c.Version == tok.Version+1:
			// Opted out through this very notification: the same confirmation.
			v.State, v.Title = "done", "You have opted out"
			return h.render(http.StatusOK, v), nil
		case c.Status != claim.StatusPendingCustomer || !tok.Valid(c.Version) || !now.Before(tok.Deadline):
			v.State, v.Title = "gone", "This link has expired"
			return h.render(http.StatusGone, v), nil
		case method == http.MethodGet:
			v.State, v.Title = "form", "Partner association request"
			return h.render(http.StatusOK, v), nil
		}
		next := *c
		ev, err := claim.Apply(&next, claim.ActionOptedOut, customer, now, nil)
		if err != nil {
			return h.fail(ctx, err), nil
		}
		next.StatusReason = &claim.StatusReason{Code: claim.ReasonOptedOut, Message: "The customer opted out of the association."}
		// What the customer declined, in the same transaction: this partner,
		// this tenant, these products, until the cool-down ends.
		declined, err := h.Store.DeclinedOps(store.Declined{TenantID: c.Customer.TenantID, PartnerID: c.PartnerID, ClaimID: c.ID,
			Products: productIDs(c), Until: now.Add(h.CoolDown)})
		if err != nil {
			return h.fail(ctx, err), nil
		}
		err = h.Store.Commit(ctx, store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev, Ops: declined})
		if errors.Is(err, store.ErrVersionConflict) || errors.Is(err, claim.ErrInvalidTransition) {
			continue // decided meanwhile (finalize, a double click): look again
		}
		if err != nil {
			return h.fail(ctx, err), nil
		}
		_ = notice.Partner(ctx, h.Store, h.Mail, &next, h.Clock(), h.Log)
		v.State, v.Title = "done", "You have opted out"
		return h.render(http.StatusOK, v), nil
	}
	return h.fail(ctx, errors.New("claim kept changing")), nil
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

func (h *Handler) fail(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	h.Log.ErrorContext(ctx, "opt-out failed", "error", err)
	return h.render(http.StatusInternalServerError, view{State: "error", Title: "Something went wrong"})
}

func (h *Handler) render(status int, v view) events.APIGatewayV2HTTPResponse {
	var b bytes.Buffer
	if err := page(v).Render(context.Background(), &b); err != nil {
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
