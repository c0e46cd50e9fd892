// Package finalize is the scheduled run (EventBridge Scheduler): it decides
// every claim whose deadline has passed, taken from the sparse due-deadline
// index (never a Scan), and queues again validation jobs that are overdue.
package finalize

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/notice"
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
	// Concurrency bounds how many claims are decided at once (default
	// DefaultConcurrency). Claims of one page that share an association
	// item are decided one after another, in deadline order, so the
	// earliest deadline still takes a contested workload first.
	Concurrency int
}

// DefaultConcurrency is how many claims a run decides at once by default.
const DefaultConcurrency = 16

// Result counts what one run did.
type Result struct {
	Approved int  `json:"approved"`
	Rejected int  `json:"rejected"`
	Requeued int  `json:"requeued"`
	Notified int  `json:"notified"` // partner notices sent late
	Skipped  int  `json:"skipped"`
	Partial  bool `json:"partial"`
}

// outcome is what deciding one claim did.
type outcome int

const (
	skipped outcome = iota
	approved
	rejected
	requeued
	notified
)

func (r *Result) add(o outcome) {
	switch o {
	case approved:
		r.Approved++
	case rejected:
		r.Rejected++
	case requeued:
		r.Requeued++
	case notified:
		r.Notified++
	default:
		r.Skipped++
	}
}

var system = claim.Actor{Type: claim.ActorSystem, ID: "finalize"}

// Event is what starts a run. EventBridge Scheduler sends its target the
// schedule's Input verbatim, with no EventBridge envelope: template.yaml's
// Input carries the firing time as scheduledTime (the context attribute
// <aws.scheduler.scheduled-time>), the schedule's ARN and the execution id.
// An EventBridge envelope (a rule's event, or a hand-made {"time": ...} sent
// to the local runner's invocation endpoint) is accepted too, through its
// time.
type Event struct {
	ScheduledTime time.Time `json:"scheduledTime"`
	ScheduleARN   string    `json:"scheduleArn,omitempty"`
	ExecutionID   string    `json:"executionId,omitempty"`
	// Time is an EventBridge envelope's time.
	Time time.Time `json:"time"`
}

// Now is the moment the event stands for: the scheduled time, else the
// envelope's time; zero when it carries neither.
func (e Event) Now() time.Time {
	if !e.ScheduledTime.IsZero() {
		return e.ScheduledTime.UTC()
	}
	return e.Time.UTC()
}

// Handle runs once. "Now" is the event's time (the schedule's firing time),
// so tests move the clock through the event. An event without one (an
// empty test invocation) runs at the wall clock, and says so.
func (f *Finalizer) Handle(ctx context.Context, ev Event) (Result, error) {
	now := ev.Now()
	if now.IsZero() {
		now = f.Clock().UTC()
		f.Log.WarnContext(ctx, "finalize event carries no scheduledTime or time: running at the wall clock", "now", now)
	}
	return f.Run(ctx, now)
}

// Run decides what is due at now. It stops starting decisions once the
// Lambda deadline minus Margin is reached (the decisions under way finish
// with the function's own context) and reports a partial run; the next run
// continues where this one stopped.
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
	err := f.Store.Due(runCtx, now, pageSize, func(page []*claim.Claim) error {
		return f.decidePage(ctx, runCtx, page, now, &res)
	})
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		res.Partial = true
		f.Log.WarnContext(ctx, "finalize stopped before the function's deadline; the next run continues", "result", res)
		return res, nil
	}
	if err != nil {
		return res, err
	}
	f.Log.InfoContext(ctx, "finalize run", "approved", res.Approved, "rejected", res.Rejected, "requeued", res.Requeued,
		"notified", res.Notified, "skipped", res.Skipped)
	return res, nil
}

func (f *Finalizer) margin() time.Duration {
	if f.Margin > 0 {
		return f.Margin
	}
	return 5 * time.Second
}

// decidePage decides a page of due claims, up to Concurrency at once, each
// group of claims sharing an association item in order. It returns the
// first error (after the decisions under way end), or runCtx's error when
// the run's time is up.
func (f *Finalizer) decidePage(ctx, runCtx context.Context, page []*claim.Claim, now time.Time, res *Result) error {
	n := f.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, n)
	)
	// The association items of the page's approvals, read at once: no
	// read per claim (a stale one fails its version condition and is read
	// again).
	var approvable []*claim.Claim
	for _, c := range page {
		if approvableAt(c, now) {
			approvable = append(approvable, c)
		}
	}
	known, err := f.Store.AssociationsOf(ctx, approvable)
	if err != nil {
		return err
	}
	stopped := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstErr != nil || runCtx.Err() != nil
	}
	for _, group := range contested(page) {
		if stopped() {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			for _, c := range group {
				if stopped() {
					return
				}
				o, err := f.decide(ctx, c, now, known)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if err == nil {
					res.add(o)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return runCtx.Err()
}

// contested splits a page into groups of claims linked by a shared
// association item (tenant and product), keeping the page's (deadline)
// order inside each group.
func contested(page []*claim.Claim) [][]*claim.Claim {
	parent := make([]int, len(page))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, c := range page {
		for _, k := range claim.AssociationKeys(c) {
			if j, ok := owner[k.ItemKey()]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[k.ItemKey()] = i
			}
		}
	}
	var groups [][]*claim.Claim
	index := map[int]int{}
	for i, c := range page {
		root := find(i)
		g, ok := index[root]
		if !ok {
			g = len(groups)
			index[root] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], c)
	}
	return groups
}

// approvableAt: PendingCustomer, the customer notified, and the opt-out
// deadline passed at now.
func approvableAt(c *claim.Claim, now time.Time) bool {
	return c.Status == claim.StatusPendingCustomer && c.CustomerNotifiedAt != nil &&
		c.OptOutDeadline != nil && !now.Before(*c.OptOutDeadline)
}

func (f *Finalizer) decide(ctx context.Context, c *claim.Claim, now time.Time, known *store.Holdings) (outcome, error) {
	var o outcome
	var err error
	switch {
	case c.Status == claim.StatusSubmitted,
		c.Status == claim.StatusPendingCustomer && c.CustomerNotifiedAt == nil:
		o, err = f.requeue(ctx, c, now)
	case approvableAt(c, now):
		o, err = f.approve(ctx, c, now, known)
	case c.Status == claim.StatusNeedsInfo && c.RespondBy != nil && !now.Before(*c.RespondBy):
		o, err = f.reject(ctx, c, now, &claim.StatusReason{Code: claim.ReasonNoResponse,
			Message: "No response to the request for more information within five business days."})
	case claim.NeedsPartnerNotice(c) && c.PartnerNotifiedAt == nil:
		o, err = f.renotice(ctx, c, now)
	}
	if errors.Is(err, store.ErrVersionConflict) || errors.Is(err, claim.ErrInvalidTransition) {
		// Decided meanwhile by another run, an opt-out or the partner: that
		// change has its own outcome and event.
		return skipped, nil
	}
	return o, err
}

// requeue sends the validation job of a claim whose job is overdue (the
// submit's SendMessage failed, or the worker never confirmed the email).
func (f *Finalizer) requeue(ctx context.Context, c *claim.Claim, now time.Time) (outcome, error) {
	if err := f.Jobs.Send(ctx, queue.Job{ClaimID: c.ID, Version: c.Version}); err != nil {
		return skipped, err
	}
	if err := f.Store.MarkRequeued(ctx, c, now); err != nil {
		return skipped, err
	}
	return requeued, nil
}

// renotice sends a partner notice that was not confirmed sent when its
// status was committed. Moving the claim's due time first makes this run
// the only one sending it; should it fail, the notice is due again later.
func (f *Finalizer) renotice(ctx context.Context, c *claim.Claim, now time.Time) (outcome, error) {
	if err := f.Store.MarkRequeued(ctx, c, now); err != nil {
		return skipped, err
	}
	if err := notice.Partner(ctx, f.Store, f.Mail, c, f.Clock(), f.Log); err != nil {
		return skipped, nil // logged; due again after the re-queue delay
	}
	return notified, nil
}

func (f *Finalizer) approve(ctx context.Context, c *claim.Claim, now time.Time, known *store.Holdings) (outcome, error) {
	next := *c
	ev, err := claim.Apply(&next, claim.ActionApproved, system, now, nil)
	if err != nil {
		return skipped, err
	}
	next.StatusReason = nil
	err = f.Store.ApproveKnown(ctx, store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev}, known)
	if errors.Is(err, store.ErrAssociationHeld) {
		return f.reject(ctx, c, now, &claim.StatusReason{Code: claim.ReasonConflict,
			Message: "Another partner was associated with one or more of these workloads or subscriptions first."})
	}
	if err != nil {
		return skipped, err
	}
	f.tell(ctx, &next)
	return approved, nil
}

func (f *Finalizer) reject(ctx context.Context, c *claim.Claim, now time.Time, reason *claim.StatusReason) (outcome, error) {
	next := *c
	ev, err := claim.Apply(&next, claim.ActionRejected, system, now, map[string]string{"reason": reason.Code})
	if err != nil {
		return skipped, err
	}
	next.StatusReason = reason
	if err := f.Store.Commit(ctx, store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev}); err != nil {
		return skipped, err
	}
	f.tell(ctx, &next)
	return rejected, nil
}

func (f *Finalizer) tell(ctx context.Context, c *claim.Claim) {
	_ = notice.Partner(ctx, f.Store, f.Mail, c, f.Clock(), f.Log)
}
