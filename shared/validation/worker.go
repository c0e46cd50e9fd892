// Package validation is the asynchronous validation worker (SQS): it checks
// a Submitted claim's evidence, its tenant and domain and whether another
// partner holds its workloads, then moves it to NeedsInfo, Rejected or
// PendingCustomer and emails the customer with the opt-out link.
package validation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/evidence"
	"github.com/cpor-claims/claims/shared/mail"
	"github.com/cpor-claims/claims/shared/notice"
	"github.com/cpor-claims/claims/shared/queue"
	"github.com/cpor-claims/claims/shared/store"
	"github.com/cpor-claims/claims/shared/tenant"
)

// Evidence reads the first bytes of uploaded evidence.
type Evidence interface {
	Head(ctx context.Context, key, versionID string, n int) ([]byte, error)
}

// Tenants says which tenant a domain belongs to.
type Tenants interface {
	TenantOf(ctx context.Context, domain string) (string, error)
}

// Mailer renders and sends the notices.
type Mailer interface {
	CustomerNotice(c *claim.Claim, link string) (mail.Message, error)
	Send(ctx context.Context, msg mail.Message) (string, error)
	NotifyPartner(ctx context.Context, c *claim.Claim) error
}

var (
	_ Evidence = (*evidence.Bucket)(nil)
	_ Tenants  = (*tenant.Lookup)(nil)
	_ Mailer   = (*mail.Mailer)(nil)
)

// Worker validates claims. Tenants is nil when the lookup is switched off.
type Worker struct {
	Store         Store
	Evidence      Evidence
	Tenants       Tenants
	Mail          Mailer
	Calendar      *claim.Calendar
	Clock         func() time.Time
	PublicBaseURL string
	Log           *slog.Logger
	// ResendAfter is how long after a notification was committed its email
	// may still be on its way (another worker sending it): a job finding
	// it unconfirmed sooner is retried later rather than sending a second
	// email. At least the function's timeout (default DefaultResendAfter).
	ResendAfter time.Duration
	// Guard is the time kept free before the Lambda deadline: records not
	// started by then are reported failed and come back (default
	// DefaultGuard).
	Guard time.Duration
}

// Defaults of the worker's settings.
const (
	DefaultResendAfter = 90 * time.Second
	DefaultGuard       = 8 * time.Second
	// MaxNotifications bounds how many times one validation tries to email
	// the customer before the claim is rejected as unreachable.
	MaxNotifications = 5
)

// errInFlight: a notification's email may still be being sent.
var errInFlight = errors.New("the customer's email may still be on its way; retried later")

var system = claim.Actor{Type: claim.ActorSystem, ID: "validation"}

// Handle processes a batch. A message that fails is reported in
// BatchItemFailures (SQS redelivers it, then dead-letters it); the others
// are deleted. It never fails the whole batch for one message.
func (w *Worker) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	deadline, hasDeadline := ctx.Deadline()
	guard := w.Guard
	if guard <= 0 {
		guard = DefaultGuard
	}
	for i, rec := range ev.Records {
		if hasDeadline && time.Until(deadline) < guard {
			// Too close to the function's timeout to start another job:
			// the rest come back to the queue, untouched.
			w.Log.WarnContext(ctx, "batch cut short before the function's deadline", "left", len(ev.Records)-i)
			for _, r := range ev.Records[i:] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
			break
		}
		if err := w.process(ctx, rec.Body); err != nil {
			w.Log.ErrorContext(ctx, "validation job failed", "messageId", rec.MessageId, "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

// process handles one job idempotently: a job whose claim has moved on
// changes nothing.
func (w *Worker) process(ctx context.Context, body string) error {
	job, err := queue.ParseJob(body)
	if err != nil {
		return err
	}
	c, err := w.Store.Get(ctx, job.ClaimID)
	if errors.Is(err, store.ErrNotFound) {
		w.Log.WarnContext(ctx, "job for an unknown claim dropped", "claimId", job.ClaimID)
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case c.Status == claim.StatusSubmitted && c.Version == job.Version:
		return w.validate(ctx, c)
	case c.Status == claim.StatusPendingCustomer && c.CustomerNotifiedAt == nil:
		// Notified but the email is not confirmed sent: either another
		// worker is sending it right now (a duplicate delivery), or one
		// crashed between the transition and the mark. Only the second
		// may notify again, with a fresh link.
		if w.Clock().Sub(c.UpdatedAt) < w.resendAfter() {
			return errInFlight
		}
		return w.renotify(ctx, c)
	default:
		w.Log.InfoContext(ctx, "stale job ignored", "claimId", c.ID, "status", c.Status, "version", c.Version, "jobVersion", job.Version)
		return nil
	}
}

func (w *Worker) resendAfter() time.Duration {
	if w.ResendAfter > 0 {
		return w.ResendAfter
	}
	return DefaultResendAfter
}

// renotify sends a new link for a notification whose email was never
// confirmed, up to MaxNotifications per validation; past that the customer
// is unreachable and the claim is rejected (customer_unreachable), which
// the partner may dispute once the contact's mailbox works.
func (w *Worker) renotify(ctx context.Context, c *claim.Claim) error {
	evs, err := w.Store.History(ctx, c.ID)
	if err != nil {
		return err
	}
	tries := 0
	for _, e := range evs {
		switch {
		case e.ToStatus == claim.StatusSubmitted:
			tries = 0 // a new validation
		case e.Action == claim.ActionCustomerNotified:
			tries++
		}
	}
	if tries < MaxNotifications {
		return w.notify(ctx, c, claim.ActionCustomerNotified, true)
	}
	reason := &claim.StatusReason{Code: claim.ReasonCustomerUnreachable,
		Message: fmt.Sprintf("The customer contact could not be emailed after %d attempts. Check the address, then dispute to have the customer notified again.", tries)}
	next, err := store.Transition(ctx, w.Store, c.ID, store.Step{
		From: c, AtVersion: c.Version, Unnotified: true,
		Action: claim.ActionRejected, Actor: system, At: w.Clock(), Detail: map[string]string{"reason": reason.Code},
		Edit: func(next *claim.Claim, _ *claim.Event) ([]store.Op, error) {
			next.StatusReason, next.OptOutDeadline = reason, nil
			return nil, nil
		}})
	if err != nil {
		return w.lost(ctx, c, err)
	}
	w.tellPartner(ctx, next)
	return nil
}

// outcome is what validation decided; invalid lists the evidence files
// refused now (marked so on the claim, and not checked again).
type outcome struct {
	action  claim.Action
	reason  *claim.StatusReason
	invalid map[string]string // evidence id -> why
}

func (w *Worker) validate(ctx context.Context, c *claim.Claim) error {
	out, err := w.check(ctx, c)
	if err != nil {
		return err
	}
	if out.action == claim.ActionCustomerNotified {
		return w.notify(ctx, c, claim.ActionCustomerNotified, false)
	}
	now := w.Clock().UTC()
	next, err := store.Transition(ctx, w.Store, c.ID, store.Step{
		From: c, AtVersion: c.Version,
		Action: out.action, Actor: system, At: now, Detail: map[string]string{"reason": out.reason.Code},
		Edit: func(next *claim.Claim, _ *claim.Event) ([]store.Op, error) {
			next.StatusReason = out.reason
			if len(out.invalid) > 0 {
				next.Evidence = append([]claim.Evidence(nil), next.Evidence...)
				for i := range next.Evidence {
					if why, ok := out.invalid[next.Evidence[i].ID]; ok {
						next.Evidence[i].Invalid = why
					}
				}
			}
			if out.action == claim.ActionMoreInfoRequested {
				rb := w.Calendar.EndOfBusinessDaysAfter(now, claim.RespondBusinessDays)
				next.RespondBy = &rb
			}
			return nil, nil
		}})
	if err != nil {
		return w.lost(ctx, c, err)
	}
	w.tellPartner(ctx, next)
	return nil
}

// check runs the checks in order: evidence, tenant and domain, held
// workloads. An unavailable tenant lookup is an error (the job is retried),
// never a rejection. Every uploaded file not refused before must be
// readable and of its declared type: one that is not is marked invalid and
// the claim needs more information; files refused before are not read
// again and do not count, so the partner answers with a new upload.
func (w *Worker) check(ctx context.Context, c *claim.Claim) (outcome, error) {
	usable := 0
	invalid := map[string]string{}
	var bad []string
	for _, e := range c.Evidence {
		if !e.Usable() {
			continue
		}
		head, err := w.Evidence.Head(ctx, evidence.Key(c.ID, e.ID), e.VersionID, evidence.SniffLen)
		switch {
		case errors.Is(err, evidence.ErrMissing):
			invalid[e.ID] = "not found in storage"
		case err != nil:
			return outcome{}, err
		case !evidence.Matches(e.ContentType, head):
			invalid[e.ID] = "content is not " + e.ContentType
		default:
			usable++
			continue
		}
		bad = append(bad, e.FileName+" ("+invalid[e.ID]+")")
	}
	if len(bad) > 0 {
		return outcome{action: claim.ActionMoreInfoRequested, invalid: invalid, reason: &claim.StatusReason{Code: claim.ReasonEvidenceInvalid,
			Message: "Unreadable or mismatched proof of execution: " + strings.Join(bad, "; ") + ". Upload a readable PDF, PNG, JPEG or DOCX and respond."}}, nil
	}
	if usable == 0 {
		return outcome{action: claim.ActionMoreInfoRequested, reason: &claim.StatusReason{Code: claim.ReasonEvidenceMissing,
			Message: "No proof of execution was uploaded. Upload a statement of work or the PoE template signed by the customer."}}, nil
	}
	if w.Tenants != nil {
		ok, err := w.inTenant(ctx, c.Customer.Domain, c.Customer.TenantID)
		if err != nil {
			return outcome{}, err
		}
		if !ok {
			return outcome{action: claim.ActionRejected, reason: &claim.StatusReason{Code: claim.ReasonTenantDomainMismatch,
				Message: fmt.Sprintf("The domain %s does not belong to tenant %s.", c.Customer.Domain, c.Customer.TenantID)}}, nil
		}
		// The opt-out notice goes to the customer contact: its address must
		// be the customer's (its domain in the claimed tenant), or a partner
		// could send the notice to a mailbox of its own.
		contact := contactDomain(c)
		if ok, err = w.inTenant(ctx, contact, c.Customer.TenantID); err != nil {
			return outcome{}, err
		}
		if !ok {
			return outcome{action: claim.ActionRejected, reason: &claim.StatusReason{Code: claim.ReasonContactNotInTenant,
				Message: fmt.Sprintf("The customer contact's email domain %s does not belong to tenant %s: the customer must be notified at an address of its own organisation.", contact, c.Customer.TenantID)}}, nil
		}
	}
	// No opt-out laundering: a customer that opted out of this partner's
	// claim on these products is not asked again before the cool-down ends.
	products := make([]string, 0, len(c.Products))
	for _, p := range c.Products {
		products = append(products, p.ID)
	}
	until, declined, err := w.Store.DeclinedUntil(ctx, c.Customer.TenantID, c.PartnerID, products, w.Clock())
	if err != nil {
		return outcome{}, err
	}
	if len(declined) > 0 {
		return outcome{action: claim.ActionRejected, reason: &claim.StatusReason{Code: claim.ReasonDeclinedRecently,
			Message: fmt.Sprintf("The customer opted out of this partner's claim on %s for tenant %s; a new claim on them is possible from %s.",
				strings.Join(declined, ", "), c.Customer.TenantID, until.UTC().Format("2 January 2006 15:04 MST"))}}, nil
	}
	held, err := w.Store.HeldByOther(ctx, c)
	if err != nil {
		return outcome{}, err
	}
	if held {
		return outcome{action: claim.ActionRejected, reason: &claim.StatusReason{Code: claim.ReasonConflict,
			Message: "Another partner is already associated with one or more of these workloads or subscriptions."}}, nil
	}
	return outcome{action: claim.ActionCustomerNotified}, nil
}

// inTenant says whether domain belongs to tenant tid. A domain the identity
// platform does not know belongs to none; an unavailable lookup is an
// error (the job is retried), never a "no".
func (w *Worker) inTenant(ctx context.Context, domain, tid string) (bool, error) {
	if domain == "" {
		return false, nil
	}
	got, err := w.Tenants.TenantOf(ctx, domain)
	switch {
	case errors.Is(err, tenant.ErrUnknownDomain):
		return false, nil
	case err != nil:
		return false, err
	}
	return strings.EqualFold(got, tid), nil
}

// contactDomain is the domain of the customer contact's email, lower case.
func contactDomain(c *claim.Claim) string {
	if c.CustomerContact == nil {
		return ""
	}
	at := strings.LastIndexByte(c.CustomerContact.Email, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(c.CustomerContact.Email[at+1:]))
}

// notify moves the claim to PendingCustomer (or, again=true, renews the
// link of a PendingCustomer claim whose email was never confirmed) with a
// fresh token and a deadline counted from now, commits it, sends the
// customer's email and marks it sent.
//
// Exactly one email per notification in the normal cases: a redelivered job
// finds the claim marked and does nothing, and one that finds it unmarked
// within ResendAfter comes back later (process). The remaining window: a crash
// after SES accepted the email and before the mark is written; the retry then
// sends a second email with a new link (the first link stops working, and the
// deadline counts from the second email).
func (w *Worker) notify(ctx context.Context, c *claim.Claim, action claim.Action, again bool) error {
	now := w.Clock().UTC()
	token, hash := claim.NewOptOutToken()
	deadline := w.Calendar.EndOfBusinessDaysAfter(now, claim.OptOutBusinessDays)
	next, err := store.Transition(ctx, w.Store, c.ID, store.Step{
		From: c, AtVersion: c.Version, Unnotified: again,
		Action: action, Actor: system, At: now, Keep: again, Detail: resent(again),
		Edit: func(next *claim.Claim, ev *claim.Event) ([]store.Op, error) {
			next.OptOutDeadline = &deadline
			next.CustomerNotifiedAt = nil
			next.StatusReason = nil
			tok, err := w.Store.TokenOp(store.Token{
				Hash: hash, ClaimID: c.ID, Version: next.Version, Deadline: deadline,
			})
			ev.Detail = mergeDetail(ev.Detail, map[string]string{"optOutDeadline": deadline.Format(time.RFC3339)})
			return []store.Op{tok}, err
		}})
	if err != nil {
		return w.lost(ctx, c, err)
	}
	msg, err := w.Mail.CustomerNotice(next, w.PublicBaseURL+"/opt-out/"+token)
	if err != nil {
		return err
	}
	if _, err := w.Mail.Send(ctx, msg); err != nil {
		// Not marked: the job is retried and notifies again with a new link.
		return err
	}
	if err := w.Store.MarkNotified(ctx, next, w.Clock()); err != nil && !errors.Is(err, store.ErrVersionConflict) {
		return err
	}
	return nil
}

// resent is the detail of a re-sent notice.
func resent(again bool) map[string]string {
	if again {
		return map[string]string{"resent": "true"}
	}
	return nil
}

// lost turns "someone else changed the claim first" into success: the job
// is stale, and the other change has its own history event.
func (w *Worker) lost(ctx context.Context, c *claim.Claim, err error) error {
	if errors.Is(err, store.ErrVersionConflict) || errors.Is(err, claim.ErrInvalidTransition) || errors.Is(err, store.ErrNotFound) {
		w.Log.InfoContext(ctx, "claim changed meanwhile; job dropped", "claimId", c.ID, "error", err)
		return nil
	}
	return err
}

// tellPartner emails the partner contact and marks it sent; a failure
// leaves the notice due for the scheduled run.
func (w *Worker) tellPartner(ctx context.Context, c *claim.Claim) {
	_ = notice.Partner(ctx, w.Store, w.Mail, c, w.Clock(), w.Log)
}

func mergeDetail(a, b map[string]string) map[string]string {
	if a == nil {
		a = map[string]string{}
	}
	for k, v := range b {
		a[k] = v
	}
	return a
}
