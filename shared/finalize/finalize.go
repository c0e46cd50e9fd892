// Package finalize is the scheduled run (EventBridge Scheduler): it decides
// every claim whose deadline has passed, taken from the sparse due-deadline
// index (never a Scan), and queues again validation jobs that are overdue.
package finalize

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/queue"
	"github.com/cpor-claims/claims/shared/store"
)

// Jobs queues validation jobs.
type Jobs interface {
	Send(ctx context.Context, j queue.Job) error
}

// Partners emails partner contacts.
type Partners interface {
	NotifyPartner(ctx context.Context, c *claim.Claim) error
}

// Finalizer decides due claims.
type Finalizer struct {
	Store    *store.Store
	Jobs     Jobs
	Mail     Partners
	Clock    func() time.Time
	Log      *slog.Logger
	PageSize int32
	// Margin is kept free before the Lambda deadline: the run stops there
	// and the next run continues.
	Margin time.Duration
}

// Result counts what one run did.
type Result struct {
	Approved int  `json:"approved"`
	Rejected int  `json:"rejected"`
	Requeued int  `json:"requeued"`
	Skipped  int  `json:"skipped"`
	Partial  bool `json:"partial"`
}

var system = claim.Actor{Type: claim.ActorSystem, ID: "finalize"}

// Handle runs once. "Now" is the event's time (the schedule's firing time),
// so tests move the clock through the event.
func (f *Finalizer) Handle(ctx context.Context, ev events.EventBridgeEvent) (Result, error) {
	now := ev.Time
	if now.IsZero() {
		now = f.Clock()
	}
	return f.Run(ctx, now.UTC())
}

// Run decides what is due at now.
func (f *Finalizer) Run(ctx context.Context, now time.Time) (Result, error) {
	var res Result
	runCtx := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithDeadline(ctx, dl.Add(-f.margin()))
		defer cancel()
	}
	pageSize := f.PageSize
	if pageSize <= 0 {
		pageSize = 100
	}
	err := f.Store.Due(runCtx, now, pageSize, func(c *claim.Claim) error {
		return f.decide(ctx, c, now, &res)
	})
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		res.Partial = true
		f.Log.WarnContext(ctx, "finalize stopped before the function's deadline; the next run continues", "result", res)
		return res, nil
	}
	if err != nil {
		return res, err
	}
	f.Log.InfoContext(ctx, "finalize run", "approved", res.Approved, "rejected", res.Rejected, "requeued", res.Requeued, "skipped", res.Skipped)
	return res, nil
}

func (f *Finalizer) margin() time.Duration {
	if f.Margin > 0 {
		return f.Margin
	}
	return 5 * time.Second
}

func (f *Finalizer) decide(ctx context.Context, c *claim.Claim, now time.Time, res *Result) error {
	var err error
	switch {
	case c.Status == claim.StatusSubmitted,
		c.Status == claim.StatusPendingCustomer && c.CustomerNotifiedAt == nil:
		err = f.requeue(ctx, c, now, res)
	case c.Status == claim.StatusPendingCustomer && c.OptOutDeadline != nil && !now.Before(*c.OptOutDeadline):
		err = f.approve(ctx, c, now, res)
	case c.Status == claim.StatusNeedsInfo && c.RespondBy != nil && !now.Before(*c.RespondBy):
		err = f.reject(ctx, c, now, &claim.StatusReason{Code: claim.ReasonNoResponse,
			Message: "No response to the request for more information within five business days."}, res)
	default:
		res.Skipped++
	}
	if errors.Is(err, store.ErrVersionConflict) || errors.Is(err, claim.ErrInvalidTransition) {
		// Decided meanwhile by another run, an opt-out or the partner: that
		// change has its own outcome and event.
		res.Skipped++
		return nil
	}
	return err
}

// requeue sends the validation job of a claim whose job is overdue (the
// submit's SendMessage failed, or the worker never confirmed the email).
func (f *Finalizer) requeue(ctx context.Context, c *claim.Claim, now time.Time, res *Result) error {
	if err := f.Jobs.Send(ctx, queue.Job{ClaimID: c.ID, Version: c.Version}); err != nil {
		return err
	}
	if err := f.Store.MarkRequeued(ctx, c, now); err != nil {
		return err
	}
	res.Requeued++
	return nil
}

func (f *Finalizer) approve(ctx context.Context, c *claim.Claim, now time.Time, res *Result) error {
	next := *c
	ev, err := claim.Apply(&next, claim.ActionApproved, system, now, nil)
	if err != nil {
		return err
	}
	next.StatusReason = nil
	err = f.Store.Approve(ctx, store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev})
	if errors.Is(err, store.ErrAssociationHeld) {
		return f.reject(ctx, c, now, &claim.StatusReason{Code: claim.ReasonConflict,
			Message: "Another partner was associated with one or more of these workloads or subscriptions first."}, res)
	}
	if err != nil {
		return err
	}
	res.Approved++
	f.tell(ctx, &next)
	return nil
}

func (f *Finalizer) reject(ctx context.Context, c *claim.Claim, now time.Time, reason *claim.StatusReason, res *Result) error {
	next := *c
	ev, err := claim.Apply(&next, claim.ActionRejected, system, now, map[string]string{"reason": reason.Code})
	if err != nil {
		return err
	}
	next.StatusReason = reason
	if err := f.Store.Commit(ctx, store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev}); err != nil {
		return err
	}
	res.Rejected++
	f.tell(ctx, &next)
	return nil
}

func (f *Finalizer) tell(ctx context.Context, c *claim.Claim) {
	if err := f.Mail.NotifyPartner(ctx, c); err != nil {
		f.Log.ErrorContext(ctx, "partner notice not sent", "claimId", c.ID, "error", err)
	}
}
