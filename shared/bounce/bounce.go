// Package bounce is the worker of SES's bounce and complaint events: the
// customer's opt-out notice is sent through a configuration set whose event
// destination (SNS, then an SQS queue) reports them, tagged with the claim
// and the notification. A notice that bounced, or that the customer
// reported as spam, did not reach the customer: the claim, if still
// pending on that notification, is Rejected (email_bounced) and its partner
// contact is told.
package bounce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/mail"
	"github.com/cpor-claims/claims/shared/notice"
	"github.com/cpor-claims/claims/shared/store"
)

// Worker handles the bounce queue's batches.
type Worker struct {
	Store *store.Store
	Mail  notice.Sender
	Clock func() time.Time
	Log   *slog.Logger
}

// snsEnvelope is SNS's notification as it delivers it to SQS (without raw
// message delivery): the SES event is its Message.
type snsEnvelope struct {
	Type      string `json:"Type"`
	MessageID string `json:"MessageId"`
	Message   string `json:"Message"`
}

// Event is SES's bounce or complaint event: eventType in the configuration
// set's event publishing, notificationType in an identity's feedback
// notifications.
type Event struct {
	EventType        string `json:"eventType"`
	NotificationType string `json:"notificationType"`
	Bounce           *struct {
		BounceType    string `json:"bounceType"`
		BounceSubType string `json:"bounceSubType"`
	} `json:"bounce"`
	Complaint *struct {
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
	} `json:"complaint"`
	Mail struct {
		MessageID string              `json:"messageId"`
		Tags      map[string][]string `json:"tags"`
	} `json:"mail"`
}

// Kind is Bounce or Complaint.
func (e Event) Kind() string {
	if e.EventType != "" {
		return e.EventType
	}
	return e.NotificationType
}

func (e Event) tag(name string) string {
	if v := e.Mail.Tags[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Parse reads an SQS body: SNS's envelope around SES's event, or the event
// itself (raw message delivery).
func Parse(body string) (Event, error) {
	var env snsEnvelope
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		return Event{}, fmt.Errorf("not JSON: %w", err)
	}
	raw := body
	if env.Type == "Notification" && env.Message != "" {
		raw = env.Message
	}
	var ev Event
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		return Event{}, fmt.Errorf("not an SES event: %w", err)
	}
	return ev, nil
}

var system = claim.Actor{Type: claim.ActorSystem, ID: "bounce"}

// Handle processes a batch; a failed message is reported and comes back.
func (w *Worker) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		if err := w.process(ctx, rec.Body); err != nil {
			w.Log.ErrorContext(ctx, "bounce event failed", "messageId", rec.MessageId, "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

func (w *Worker) process(ctx context.Context, body string) error {
	ev, err := Parse(body)
	if err != nil {
		// Not SES's: retrying cannot help; it is logged and dropped.
		w.Log.WarnContext(ctx, "not an SES event; dropped", "error", err)
		return nil
	}
	kind := ev.Kind()
	switch {
	case kind == "Complaint":
	case kind == "Bounce" && ev.Bounce != nil && ev.Bounce.BounceType == "Transient":
		// A full mailbox, an auto-reply: SES retried and may still deliver;
		// only a permanent bounce says the customer cannot be reached.
		w.Log.InfoContext(ctx, "transient bounce ignored", "sesMessageId", ev.Mail.MessageID)
		return nil
	case kind == "Bounce":
	default:
		w.Log.InfoContext(ctx, "SES event of another kind ignored", "kind", kind)
		return nil
	}
	claimID, notification := ev.tag(mail.TagClaimID), ev.tag(mail.TagNotification)
	version, err := strconv.ParseInt(notification, 10, 64)
	if claimID == "" || err != nil {
		w.Log.WarnContext(ctx, "SES event without the notice's tags; dropped", "kind", kind, "sesMessageId", ev.Mail.MessageID)
		return nil
	}
	c, err := w.Store.Get(ctx, claimID)
	if errors.Is(err, store.ErrNotFound) {
		w.Log.WarnContext(ctx, "SES event for an unknown claim; dropped", "claimId", claimID)
		return nil
	}
	if err != nil {
		return err
	}
	if c.Status != claim.StatusPendingCustomer || c.Version != version {
		// Decided meanwhile, or a newer notification was sent: this notice
		// no longer counts.
		w.Log.InfoContext(ctx, "SES event for a notification that no longer counts", "claimId", c.ID, "status", c.Status, "version", c.Version, "notification", version)
		return nil
	}
	what := "bounced"
	if kind == "Complaint" {
		what = "was reported as unwanted by its recipient"
	}
	next, err := store.Transition(ctx, w.Store, c.ID, store.Step{
		From: c, AtVersion: c.Version,
		Action: claim.ActionRejected, Actor: system, At: w.Clock().UTC(),
		Detail: map[string]string{"reason": claim.ReasonEmailBounced, "sesEvent": strings.ToLower(kind)},
		Edit: func(next *claim.Claim, _ *claim.Event) ([]store.Op, error) {
			next.OptOutDeadline = nil
			next.StatusReason = &claim.StatusReason{Code: claim.ReasonEmailBounced,
				Message: fmt.Sprintf("The opt-out notice to the customer contact %s, so the customer was not told. Check the address, then dispute to have the customer notified again.", what)}
			return nil, nil
		}})
	if errors.Is(err, store.ErrVersionConflict) || errors.Is(err, claim.ErrInvalidTransition) || errors.Is(err, store.ErrNotFound) {
		return nil // changed meanwhile; the other change has its own event
	}
	if err != nil {
		return err
	}
	_ = notice.Partner(ctx, w.Store, w.Mail, next, w.Clock(), w.Log)
	return nil
}
