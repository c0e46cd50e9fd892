// Package subscriptions consumes the billing side's "Subscription Ended"
// events (API.md "After approval (v2)"), delivered by a rule on the claims
// bus to a queue: the claim holding that subscription ends
// (subscription_ended), its units are freed and its partner contact is
// emailed. A claim holding the whole product is not ended by one
// subscription. Redelivery is normal: an event whose claim already ended
// changes nothing and sends nothing.
package subscriptions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/ending"
	"github.com/cpor-claims/claims/shared/notice"
	"github.com/cpor-claims/claims/shared/store"
)

// The event the rule on the claims bus forwards.
const (
	Source     = "cpor.billing"
	DetailType = "Subscription Ended"
)

// Detail is the event's detail.
type Detail struct {
	TenantID       string `json:"tenantId"`
	SubscriptionID string `json:"subscriptionId"`
	EndedAt        string `json:"endedAt"`
}

// Event is an EventBridge event as a rule's SQS target delivers it.
type Event struct {
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       string          `json:"time"`
	Detail     json.RawMessage `json:"detail"`
}

// Worker handles the queue's batches.
type Worker struct {
	Store *store.Store
	Mail  notice.Sender
	Clock func() time.Time
	Log   *slog.Logger
}

var billing = claim.Actor{Type: claim.ActorSystem, ID: "billing"}

// errMalformed marks a message that can never be handled: it is reported
// failed, so the queue's redrive policy keeps it in the dead-letter queue
// for a person to read.
var errMalformed = errors.New("malformed Subscription Ended event")

// Handle ends the claims of each message's subscription; a message is
// reported failed (and redelivered) only when an end could not be
// committed or the message can never be read.
func (w *Worker) Handle(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range batch.Records {
		if err := w.handle(ctx, m.Body); err != nil {
			w.Log.ErrorContext(ctx, "subscription end not handled", "messageId", m.MessageId, "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

func (w *Worker) handle(ctx context.Context, body string) error {
	ev, d, at, err := Parse(body)
	if err != nil {
		return err
	}
	if ev.Source != Source || ev.DetailType != DetailType {
		w.Log.WarnContext(ctx, "not a Subscription Ended event: ignored", "source", ev.Source, "detailType", ev.DetailType)
		return nil
	}
	ids, err := w.Store.SubscriptionHolders(ctx, d.TenantID, d.SubscriptionID)
	if err != nil {
		return err
	}
	var failed error
	for _, id := range ids {
		c, err := ending.End(ctx, w.Store, id, claim.ActionSubscriptionEnded, billing, at,
			map[string]string{"subscriptionId": d.SubscriptionID, "eventId": ev.ID}, nil)
		var te *claim.TransitionError
		switch {
		case errors.As(err, &te):
			// Ended already (this event redelivered, a decline, a
			// disassociation): nothing more to do.
			continue
		case err != nil:
			failed = errors.Join(failed, err)
			continue
		}
		w.Log.InfoContext(ctx, "association ended with its subscription", "claimId", c.ID)
		_ = notice.Partner(ctx, w.Store, w.Mail, c, w.Clock(), w.Log)
	}
	return failed
}

// Parse reads a message body: the event, its detail (tenant and
// subscription GUIDs) and the moment the subscription ended (endedAt, else
// the event's time).
func Parse(body string) (Event, Detail, time.Time, error) {
	var ev Event
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		return ev, Detail{}, time.Time{}, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if ev.Source != Source || ev.DetailType != DetailType {
		return ev, Detail{}, time.Time{}, nil
	}
	var d Detail
	dec := json.NewDecoder(strings.NewReader(string(ev.Detail)))
	if err := dec.Decode(&d); err != nil {
		return ev, d, time.Time{}, fmt.Errorf("%w: detail: %v", errMalformed, err)
	}
	if !claim.IsGUID(d.TenantID) || !claim.IsGUID(d.SubscriptionID) {
		return ev, d, time.Time{}, fmt.Errorf("%w: tenantId and subscriptionId must be GUIDs", errMalformed)
	}
	at, err := time.Parse(time.RFC3339Nano, d.EndedAt)
	if err != nil {
		if at, err = time.Parse(time.RFC3339, ev.Time); err != nil {
			return ev, d, time.Time{}, fmt.Errorf("%w: neither endedAt nor time is an RFC 3339 time", errMalformed)
		}
	}
	return ev, d, at.UTC(), nil
}
