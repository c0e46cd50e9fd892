package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/httpapi"
)

// Sealer seals secrets (KMS in AWS and in the local stack), bound to the
// webhook they belong to.
type Sealer interface {
	Seal(ctx context.Context, plaintext []byte, partner, webhookID string) ([]byte, error)
	Open(ctx context.Context, ciphertext []byte, partner, webhookID string) ([]byte, error)
}

// Enqueuer sends a delivery message (retry of one delivery).
type Enqueuer interface {
	Enqueue(ctx context.Context, m Message) error
}

// API serves the /webhooks routes (WebhooksFunction).
type API struct {
	Store    *Store
	Sealer   Sealer
	Queue    Enqueuer
	Resolver Resolver
	Local    bool // stage local: loopback http receivers allowed
	Log      *slog.Logger
}

// Route keys, as template.yaml declares them.
const (
	RouteCreate     = "POST /webhooks"
	RouteList       = "GET /webhooks"
	RouteGet        = "GET /webhooks/{id}"
	RouteDelete     = "DELETE /webhooks/{id}"
	RouteRotate     = "POST /webhooks/{id}/rotate-secret"
	RouteDeliveries = "GET /webhooks/{id}/deliveries"
	RouteRetry      = "POST /webhooks/{id}/deliveries/{deliveryId}/retry"
)

type handler = func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Router is the function's router.
func (a *API) Router() *httpapi.Router {
	r := httpapi.NewRouter()
	for k, h := range map[string]handler{RouteCreate: a.create, RouteList: a.list, RouteGet: a.get, RouteDelete: a.delete,
		RouteRotate: a.rotate, RouteDeliveries: a.deliveries, RouteRetry: a.retry} {
		r.Handle(k, h)
	}
	return r
}

var errNone = events.APIGatewayV2HTTPResponse{}

// admin: every webhook route is IncentivesAdmin only (API.md).
func admin(req events.APIGatewayV2HTTPRequest) (string, error) {
	p, err := httpapi.PrincipalFrom(req)
	if err != nil {
		return "", err
	}
	if !p.IsAdmin() {
		return "", httpapi.Forbidden("Webhooks need the " + httpapi.AdminRole + " role.")
	}
	return p.PartnerID, nil
}

func notFound() error { return httpapi.NotFound("No such webhook.") }

func mapErr(err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return notFound()
	case errors.Is(err, ErrTooMany):
		return httpapi.InvalidInput("A partner may have at most 10 webhooks.", httpapi.FieldError{Field: "url", Message: "at most 10 webhooks per partner; delete one first"})
	case errors.Is(err, ErrConflict):
		return httpapi.ConcurrentUpdate("The webhook was changed by another request; try again.")
	case errors.Is(err, ErrInvalidCursor):
		return httpapi.BadRequest("The cursor is not valid.", httpapi.FieldError{Field: "cursor", Message: "is not a cursor this API issued"})
	}
	return err
}

type createInput struct {
	URL         string   `json:"url"`
	Description string   `json:"description"`
	Statuses    []string `json:"statuses"`
}

var statuses = map[string]bool{}

func init() {
	for _, s := range []claim.Status{claim.StatusDraft, claim.StatusSubmitted, claim.StatusNeedsInfo, claim.StatusPendingCustomer,
		claim.StatusOptedOut, claim.StatusApproved, claim.StatusRejected, claim.StatusWithdrawn, "Ended"} {
		statuses[string(s)] = true
	}
}

func (a *API) create(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	partner, err := admin(req)
	if err != nil {
		return errNone, err
	}
	if _, err := httpapi.Query(req); err != nil {
		return errNone, err
	}
	var in createInput
	if _, err := httpapi.DecodeJSON(req, &in); err != nil {
		return errNone, err
	}
	var fields []httpapi.FieldError
	in.Description = strings.TrimSpace(in.Description)
	// The URL is taken as given (the document's pattern allows no white
	// space around it), never trimmed into one that would pass.
	if in.URL == "" || len(in.URL) > 2000 || strings.TrimSpace(in.URL) != in.URL {
		fields = append(fields, httpapi.FieldError{Field: "url", Message: "is required: an https URL of at most 2000 characters"})
	} else if _, err := Check(ctx, in.URL, a.Local, a.Resolver); err != nil {
		fields = append(fields, httpapi.FieldError{Field: "url", Message: "must be https and resolve only to public addresses (" + strings.TrimPrefix(err.Error(), ErrURL.Error()+": ") + ")"})
	}
	if utf8.RuneCountInString(in.Description) > 500 || strings.ContainsFunc(in.Description, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		fields = append(fields, httpapi.FieldError{Field: "description", Message: "at most 500 characters, no control characters"})
	}
	seen := map[string]bool{}
	for i, st := range in.Statuses {
		if !statuses[st] || seen[st] {
			fields = append(fields, httpapi.FieldError{Field: "statuses[" + itoa(i) + "]", Message: "must be a claim status, each at most once"})
		}
		seen[st] = true
	}
	if len(fields) > 0 {
		return errNone, httpapi.InvalidInput("One or more values break a rule.", fields...)
	}
	if in.Statuses == nil {
		in.Statuses = []string{}
	}
	secret, key, err := NewSecret()
	if err != nil {
		return errNone, err
	}
	id := "wh_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	sealed, err := a.Sealer.Seal(ctx, key, partner, id)
	if err != nil {
		return errNone, err
	}
	now := httpapi.RequestTime(req)
	rec := &Record{Webhook: Webhook{ID: id, URL: in.URL, Description: in.Description, Statuses: in.Statuses, Enabled: true, CreatedAt: now},
		PartnerID: partner, Secrets: []SealedSecret{{Ciphertext: sealed, CreatedAt: now}}, Rev: 1}
	if err := a.Store.Create(ctx, rec); err != nil {
		return errNone, mapErr(err)
	}
	out := struct {
		Webhook
		Secret string `json:"secret"`
	}{rec.Webhook, secret}
	return httpapi.JSON(http.StatusCreated, out, map[string]string{"Location": "/webhooks/" + id}), nil
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func (a *API) list(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	partner, err := admin(req)
	if err != nil {
		return errNone, err
	}
	if _, err := httpapi.Query(req); err != nil {
		return errNone, err
	}
	recs, err := a.Store.List(ctx, partner)
	if err != nil {
		return errNone, err
	}
	items := make([]Webhook, 0, len(recs))
	for _, r := range recs {
		items = append(items, r.Webhook)
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"items": items}), nil
}

func (a *API) one(ctx context.Context, req events.APIGatewayV2HTTPRequest) (*Record, error) {
	partner, err := admin(req)
	if err != nil {
		return nil, err
	}
	r, err := a.Store.Get(ctx, partner, req.PathParameters["id"])
	if err != nil {
		return nil, mapErr(err)
	}
	return r, nil
}

func (a *API) get(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r, err := a.one(ctx, req)
	if err != nil {
		return errNone, err
	}
	if _, err := httpapi.Query(req); err != nil {
		return errNone, err
	}
	return httpapi.JSON(http.StatusOK, r.Webhook), nil
}

func (a *API) delete(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r, err := a.one(ctx, req)
	if err != nil {
		return errNone, err
	}
	if _, err := httpapi.Query(req); err != nil {
		return errNone, err
	}
	if err := a.Store.Delete(ctx, r.PartnerID, r.ID); err != nil {
		return errNone, mapErr(err)
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNoContent, Headers: map[string]string{}}, nil
}

// rotate: a new current secret; the previous one signs on for
// RotationOverlap; older ones are dropped.
func (a *API) rotate(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r, err := a.one(ctx, req)
	if err != nil {
		return errNone, err
	}
	if _, err := httpapi.Query(req); err != nil {
		return errNone, err
	}
	if err := httpapi.EmptyOrJSONObject(req); err != nil {
		return errNone, err
	}
	secret, key, err := NewSecret()
	if err != nil {
		return errNone, err
	}
	sealed, err := a.Sealer.Seal(ctx, key, r.PartnerID, r.ID)
	if err != nil {
		return errNone, err
	}
	now := httpapi.RequestTime(req)
	next := []SealedSecret{{Ciphertext: sealed, CreatedAt: now}}
	for _, old := range r.Secrets {
		if old.RetiresAt == nil {
			retires := now.Add(RotationOverlap)
			old.RetiresAt = &retires
			next = append(next, old)
		}
	}
	r.Secrets = next
	if err := a.Store.Replace(ctx, r); err != nil {
		return errNone, mapErr(err)
	}
	return httpapi.JSON(http.StatusOK, map[string]string{"secret": secret}), nil
}

func (a *API) deliveries(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r, err := a.one(ctx, req)
	if err != nil {
		return errNone, err
	}
	q, err := httpapi.Query(req, "limit", "cursor")
	if err != nil {
		return errNone, err
	}
	limit, err := httpapi.ParseLimit(q["limit"])
	if err != nil {
		return errNone, err
	}
	items, next, err := a.Store.Attempts(ctx, r.PartnerID, r.ID, limit, q["cursor"])
	if err != nil {
		return errNone, mapErr(err)
	}
	var cursor any
	if next != "" {
		cursor = next
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"items": items, "nextCursor": cursor}), nil
}

func (a *API) retry(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r, err := a.one(ctx, req)
	if err != nil {
		return errNone, err
	}
	d, err := a.Store.GetDelivery(ctx, r.PartnerID, r.ID, req.PathParameters["deliveryId"])
	if err != nil {
		return errNone, httpapi.NotFound("No such delivery.")
	}
	if _, err := httpapi.Query(req); err != nil {
		return errNone, err
	}
	if err := httpapi.EmptyOrJSONObject(req); err != nil {
		return errNone, err
	}
	// A new round of attempts: pending again, the message's own receive
	// count starting afresh.
	if err := a.Store.SetDeliveryStatus(ctx, r.PartnerID, r.ID, d.ID, "pending", d.Attempts, 0); err != nil {
		return errNone, mapErr(err)
	}
	if err := a.Queue.Enqueue(ctx, Message{Kind: KindDelivery, PartnerID: r.PartnerID, WebhookID: r.ID, DeliveryID: d.ID, Manual: time.Now().UnixNano()}); err != nil {
		return errNone, err
	}
	return httpapi.JSON(http.StatusAccepted, map[string]string{"id": d.ID, "status": "pending"}), nil
}
