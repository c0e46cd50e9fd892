package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Message kinds on the delivery queue: the bus's events (fan-out) and one
// message per webhook delivery.
const KindDelivery = "delivery"

// Message is one webhook delivery to make.
type Message struct {
	Kind       string `json:"kind"`
	PartnerID  string `json:"partnerId"`
	WebhookID  string `json:"webhookId"`
	DeliveryID string `json:"deliveryId"`
	Manual     int64  `json:"manual,omitempty"` // a retry asked for through the API
}

// busEvent is an EventBridge event as its SQS target receives it.
type busEvent struct {
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Detail     json.RawMessage `json:"detail"`
}

type statusDetail struct {
	EventID   string `json:"eventId"`
	PartnerID string `json:"partnerId"`
	ToStatus  string `json:"toStatus"`
	At        string `json:"at"`
}

// Visibility changes a message's visibility timeout (the retry's delay).
type Visibility interface {
	Delay(ctx context.Context, receiptHandle string, d time.Duration) error
}

// Deliverer is DeliverFunction's handler.
type Deliverer struct {
	Store      *Store
	Sealer     Sealer
	Queue      Enqueuer
	Visibility Visibility
	Resolver   Resolver
	Local      bool
	Schedule   []time.Duration // delays before each retry
	Timeout    time.Duration   // per POST (15 s)
	Clock      func() time.Time
	Log        *slog.Logger
}

// MaxResponseBody is how much of a receiver's answer is kept (in an
// attempt's error).
const MaxResponseBody = 1024

// Handle processes each message on its own, at once, so one slow receiver
// does not hold up the others; a delivery to be retried is reported as a
// batch item failure after its visibility was set to the retry's delay.
func (d *Deliverer) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var mu sync.Mutex
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	var wg sync.WaitGroup
	for _, m := range ev.Records {
		wg.Go(func() {
			if err := d.handle(ctx, m); err != nil {
				d.Log.WarnContext(ctx, "message not done; it comes back", "messageId", m.MessageId, "error", err)
				mu.Lock()
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return resp, nil
}

var errRetryLater = errors.New("delivery failed; retried after its delay")

func (d *Deliverer) handle(ctx context.Context, m events.SQSMessage) error {
	var probe struct {
		Kind       string `json:"kind"`
		DetailType string `json:"detail-type"`
	}
	if err := json.Unmarshal([]byte(m.Body), &probe); err != nil {
		d.Log.ErrorContext(ctx, "unreadable message dropped", "messageId", m.MessageId)
		return nil
	}
	if probe.Kind == KindDelivery {
		var msg Message
		if err := json.Unmarshal([]byte(m.Body), &msg); err != nil {
			return nil
		}
		return d.deliver(ctx, msg, m.ReceiptHandle)
	}
	var be busEvent
	if err := json.Unmarshal([]byte(m.Body), &be); err != nil || be.DetailType != "Claim Status Changed" {
		return nil
	}
	return d.fanOut(ctx, be)
}

// fanOut makes one delivery (and one message) per enabled webhook of the
// partner whose statuses match. A redelivered event finds its deliveries
// made and sends only those not yet attempted.
func (d *Deliverer) fanOut(ctx context.Context, be busEvent) error {
	var det statusDetail
	if err := json.Unmarshal(be.Detail, &det); err != nil || det.PartnerID == "" || det.EventID == "" {
		return nil
	}
	hooks, err := d.Store.List(ctx, det.PartnerID)
	if err != nil {
		return err
	}
	for _, h := range hooks {
		if !h.Enabled || !h.Matches(det.ToStatus) {
			continue
		}
		dl := &Delivery{ID: DeliveryID(h.ID, det.EventID), WebhookID: h.ID, PartnerID: det.PartnerID, EventID: det.EventID,
			Detail: be.Detail, At: det.At, Status: "pending"}
		created, err := d.Store.PutDelivery(ctx, dl)
		if err != nil {
			return err
		}
		if !created {
			cur, err := d.Store.GetDelivery(ctx, det.PartnerID, h.ID, dl.ID)
			if err != nil || cur.Status != "pending" || cur.Attempts > 0 {
				continue
			}
		}
		if err := d.Queue.Enqueue(ctx, Message{Kind: KindDelivery, PartnerID: det.PartnerID, WebhookID: h.ID, DeliveryID: dl.ID}); err != nil {
			return err
		}
	}
	return nil
}

func (d *Deliverer) deliver(ctx context.Context, msg Message, receipt string) error {
	hook, err := d.Store.Get(ctx, msg.PartnerID, msg.WebhookID)
	if errors.Is(err, ErrNotFound) {
		return nil // deleted: no more deliveries
	}
	if err != nil {
		return err
	}
	dl, err := d.Store.GetDelivery(ctx, msg.PartnerID, msg.WebhookID, msg.DeliveryID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if dl.Status != "pending" {
		return nil // done already (a redelivered message)
	}
	if !hook.Enabled {
		return d.Store.SetDeliveryStatus(ctx, msg.PartnerID, hook.ID, dl.ID, "failed", dl.Attempts, dl.Round)
	}
	now := d.Clock()
	attempt := Attempt{ID: dl.ID, EventID: dl.EventID, Attempt: dl.Attempts + 1, At: now}
	code, postErr := d.post(ctx, hook, dl, now)
	attempt.DurationMs = d.Clock().Sub(now).Milliseconds()
	if code != 0 {
		attempt.ResponseStatus = &code
	}
	round := dl.Round + 1
	status := "failed"
	switch {
	case postErr == nil && code >= 200 && code < 300:
		status = "succeeded"
	case code == http.StatusGone:
		postErr = errors.New("410 Gone: the webhook is disabled")
	case postErr == nil:
		postErr = fmt.Errorf("answered %d", code)
	}
	if postErr != nil {
		e := postErr.Error()
		attempt.Error = &e
	}
	attempt.Status = status
	retry := status == "failed" && code != http.StatusGone && !errors.Is(postErr, ErrURL) && round <= len(d.Schedule)
	if retry {
		attempt.Status = "pending"
	}
	if err := d.Store.PutAttempt(ctx, msg.PartnerID, hook.ID, attempt); err != nil {
		return err
	}
	if code == http.StatusGone {
		if err := d.Store.Disable(ctx, msg.PartnerID, hook.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	if retry {
		if err := d.Store.SetDeliveryStatus(ctx, msg.PartnerID, hook.ID, dl.ID, "pending", attempt.Attempt, round); err != nil {
			return err
		}
		if err := d.Visibility.Delay(ctx, receipt, d.Schedule[round-1]); err != nil {
			return err
		}
		return errRetryLater
	}
	return d.Store.SetDeliveryStatus(ctx, msg.PartnerID, hook.ID, dl.ID, status, attempt.Attempt, round)
}

// post makes one POST, to an address checked now, with no redirects.
func (d *Deliverer) post(ctx context.Context, hook *Record, dl *Delivery, now time.Time) (int, error) {
	target, err := Check(ctx, hook.URL, d.Local, d.Resolver)
	if err != nil {
		return 0, err
	}
	body, err := json.Marshal(map[string]any{"type": "claim.status_changed", "timestamp": dl.At, "data": dl.Detail})
	if err != nil {
		return 0, err
	}
	var sigs []string
	for _, s := range hook.Secrets {
		if s.RetiresAt != nil && !now.Before(*s.RetiresAt) {
			continue
		}
		key, err := d.Sealer.Open(ctx, s.Ciphertext, hook.PartnerID, hook.ID)
		if err != nil {
			return 0, fmt.Errorf("open secret: %w", err)
		}
		sigs = append(sigs, Signature(key, dl.EventID, now, body))
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	client := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         target.DialContext(&net.Dialer{Timeout: timeout}),
			TLSHandshakeTimeout: timeout, ResponseHeaderTimeout: timeout, DisableKeepAlives: true,
			Proxy: nil,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.URL.String(), bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cpor-claims-webhooks/1")
	req.Header.Set("webhook-id", dl.EventID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", strings.Join(sigs, " "))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	if resp.StatusCode >= 300 && len(excerpt) > 0 {
		return resp.StatusCode, fmt.Errorf("answered %d: %s", resp.StatusCode, strings.ToValidUTF8(string(excerpt), ""))
	}
	return resp.StatusCode, nil
}
