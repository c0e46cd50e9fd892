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
	"github.com/cpor-claims/claims/shared/metrics"
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
	Store    Store
	Jobs     Jobs
	Mail     Partners
	Clock    func() time.Time
	Log      *slog.Logger
	PageSize int32
	// Margin is kept free before the Lambda deadline: the run stops there
	// and the next run continues.
	Margin time.Duration
	// Concurrency bounds how many decision groups, decisions made alone
	// and partner emails are under way at once (default
	// DefaultConcurrency). Claims of one page that share an association
	// partition are decided one round after another, in deadline order,
	// so the earliest deadline still takes a contested workload first.
	Concurrency int
	// Metrics counts decisions that failed (FinalizeDecisionFailed); nil
	// counts nothing.
	Metrics *metrics.EMF
	// RetryAfter is how far a failed decision's due time is pushed back
	// (default DefaultRetryAfter): the run goes on with the others and a
	// later run tries it again.
	RetryAfter time.Duration
	// Stage is the deploy stage (env STAGE). Only on the "local" stage does
	// an event's time count whatever it says (tests move the clock through
	// it); elsewhere a run uses the earlier of the event's time and the
	// wall clock plus MaxEventAhead, so an invocation with a far-future
	// time cannot end anyone's opt-out window early.
	Stage string
	// GroupItems bounds the items of one decision group's transaction
	// (default and most: store.MaxGroupItems).
	GroupItems int
	// Customers, when set, emails the customer contact of each approved
	// claim with its decline link, {PublicBaseURL}/decline/{token} (v2).
	Customers     Customers
	PublicBaseURL string
}

// Customers tells the customer contact that a claim was approved, with the
// link to end the association at any time.
type Customers interface {
	NotifyCustomerApproved(ctx context.Context, c *claim.Claim, declineLink string) error
}

// LocalStage is the stage of make run, make test and sam local.
const LocalStage = "local"

// MaxEventAhead is how far ahead of the wall clock an event's time may be
// outside the local stage (EventBridge Scheduler's own delivery is never
// ahead; this leaves room for clock skew).
const MaxEventAhead = 5 * time.Minute

// DefaultRetryAfter is how long a claim whose decision failed waits before
// a run tries it again.
const DefaultRetryAfter = 10 * time.Minute

// MetricDecisionFailed counts decisions that failed for a reason other than
// a lost race (template.yaml's FinalizeDecisionFailedAlarm watches it).
const MetricDecisionFailed = "FinalizeDecisionFailed"

// DefaultConcurrency is how many decision groups (and partner emails) a
// run has under way at once by default.
const DefaultConcurrency = 16

// DefaultPageSize is how many due claims a run reads and decides together
// by default: enough for several groups of decisions under way at once.
const DefaultPageSize = 500

// Result counts what one run did.
type Result struct {
	Approved int `json:"approved"`
	Rejected int `json:"rejected"`
	Requeued int `json:"requeued"`
	Notified int `json:"notified"` // partner notices sent late
	Skipped  int `json:"skipped"`
	// Failed decisions were logged, counted and pushed back on the due
	// index; the run went on.
	Failed  int  `json:"failed"`
	Partial bool `json:"partial"`
}

// outcome is what deciding one claim did.
type outcome int

const (
	skipped outcome = iota
	approved
	rejected
	requeued
	notified
	failed
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
	case failed:
		r.Failed++
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
// so tests move the clock through the event on the local stage; on any
// other stage no later than the wall clock plus MaxEventAhead. An event
// without a time (an empty test invocation) runs at the wall clock, and
// says so.
func (f *Finalizer) Handle(ctx context.Context, ev Event) (Result, error) {
	return f.Run(ctx, f.now(ctx, ev))
}

// now is the moment a run decides at (Handle).
func (f *Finalizer) now(ctx context.Context, ev Event) time.Time {
	now := ev.Now()
	wall := f.Clock().UTC()
	if now.IsZero() {
		f.Log.WarnContext(ctx, "finalize event carries no scheduledTime or time: running at the wall clock", "now", wall)
		return wall
	}
	if f.Stage != LocalStage && now.After(wall.Add(MaxEventAhead)) {
		f.Log.WarnContext(ctx, "finalize event's time is ahead of the wall clock: running at the wall clock plus the allowed skew",
			"eventTime", now, "now", wall.Add(MaxEventAhead))
		return wall.Add(MaxEventAhead)
	}
	return now
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
		pageSize = DefaultPageSize
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
		"notified", res.Notified, "skipped", res.Skipped, "failed", res.Failed)
	return res, nil
}

func (f *Finalizer) margin() time.Duration {
	if f.Margin > 0 {
		return f.Margin
	}
	return 5 * time.Second
}

// decidePage decides a page of due claims. Approvals and rejections are
// group-committed (DESIGN.md "Finalize: group commit"): many decisions per
// TransactWriteItems, up to Concurrency groups at once, never two decisions
// on one association partition in one round, so claims of the page that
// share a unit are decided one round after another in deadline order and
// the earliest deadline still takes a contested workload. Re-queues and
// late partner notices are not transactions and run beside them. It
// returns runCtx's error when the run's time is up, or the function's
// context's error.
func (f *Finalizer) decidePage(ctx, runCtx context.Context, page []*claim.Claim, now time.Time, res *Result) error {
	n := f.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		sem     = make(chan struct{}, n)
		mailSem = make(chan struct{}, n)
	)
	record := func(o outcome) {
		mu.Lock()
		res.add(o)
		mu.Unlock()
	}
	var decisions []*claim.Claim
	for _, c := range page {
		if runCtx.Err() != nil {
			break
		}
		switch {
		case approvableAt(c, now), lapsedAt(c, now):
			decisions = append(decisions, c)
		case c.Status == claim.StatusSubmitted, c.Status == claim.StatusPendingCustomer && c.CustomerNotifiedAt == nil,
			claim.NeedsPartnerNotice(c) && c.PartnerNotifiedAt == nil:
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				record(f.decideAlone(ctx, c, now, nil))
			}()
		default:
			record(skipped)
		}
	}
	chains := contested(decisions)
	for round := 0; runCtx.Err() == nil && ctx.Err() == nil; round++ {
		var batch []*claim.Claim
		for _, chain := range chains {
			if round < len(chain) {
				batch = append(batch, chain[round])
			}
		}
		if len(batch) == 0 {
			break
		}
		f.commitRound(ctx, runCtx, batch, now, sem, mailSem, record)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return runCtx.Err()
}

// groupItems is the most items a decision group writes.
func (f *Finalizer) groupItems() int {
	if f.GroupItems > 0 && f.GroupItems < store.MaxGroupItems {
		return f.GroupItems
	}
	return store.MaxGroupItems
}

// decision is one claim's change in a group, and what it does when it
// commits.
type decision struct {
	claim  *claim.Claim
	change store.Change
	o      outcome
	// declineToken is an approval's decline link token (its hash is in
	// change), emailed to the customer once the group commits.
	declineToken string
}

// commitRound decides claims that share no association partition: the
// units of their approvals read at once (no read per claim), their changes
// packed into groups of at most groupItems items, the groups committed up
// to Concurrency at once, then each committed decision's partner notice
// sent and marked, many per transaction. A decision whose units changed
// since they were read is decided again alone; a lost race is skipped; any
// other failure is the failing claim's alone (failed).
func (f *Finalizer) commitRound(ctx, runCtx context.Context, batch []*claim.Claim, now time.Time,
	sem, mailSem chan struct{}, record func(outcome)) {
	var approvable []*claim.Claim
	for _, c := range batch {
		if approvableAt(c, now) {
			approvable = append(approvable, c)
		}
	}
	known, err := f.Store.AssociationsOf(ctx, approvable)
	if err != nil {
		// Each approval reads its own units instead (and fails alone).
		f.Log.WarnContext(ctx, "association units of a page not read; each approval reads its own", "error", err)
		known = nil
	}
	var (
		wg     sync.WaitGroup
		groups [][]decision
		group  []decision
		items  int
	)
	for _, c := range batch {
		d, err := f.prepare(c, now, known)
		if err != nil {
			if store.IsLostRace(err) {
				record(skipped)
			} else {
				record(f.failed(ctx, c, now, err))
			}
			continue
		}
		if d.change.Claim == nil {
			// Its units were not read with the page: decided alone.
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				record(f.decideAlone(ctx, c, now, nil))
			}()
			continue
		}
		if items+d.change.Items() > f.groupItems() && len(group) > 0 {
			groups = append(groups, group)
			group, items = nil, 0
		}
		group = append(group, d)
		items += d.change.Items()
	}
	if len(group) > 0 {
		groups = append(groups, group)
	}
	for _, g := range groups {
		if runCtx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f.commitGroup(ctx, g, now, mailSem, record)
		}()
	}
	// The next round may touch these partitions: it waits for every
	// decision of this one, those made alone included.
	wg.Wait()
}

// prepare builds a claim's decision: an approval with its units' writes
// (a rejection for a conflict when another partner holds one), or a
// rejection for no response. A decision with no change (Claim nil) needs
// its units read alone.
func (f *Finalizer) prepare(c *claim.Claim, now time.Time, known *store.Holdings) (decision, error) {
	if lapsedAt(c, now) {
		ch, err := rejection(c, now, noResponse).Prepare(c)
		return decision{claim: c, change: ch, o: rejected}, err
	}
	var token string
	ch, err := f.approval(c, now, known.Ops, &token).Prepare(c)
	switch {
	case errors.Is(err, store.ErrAssociationHeld):
		ch, err := rejection(c, now, conflictReason).Prepare(c)
		return decision{claim: c, change: ch, o: rejected}, err
	case errors.Is(err, store.ErrAssociationChanged):
		return decision{claim: c}, nil
	case err != nil:
		return decision{}, err
	}
	return decision{claim: c, change: ch, o: approved, declineToken: token}, nil
}

// approval is the step that approves c at now: the writes that give it its
// units (units: as read for its page, or read alone) and, when customers
// are emailed, the customer's decline link: a new 256-bit token, stored
// hashed in the approving transaction, valid while the association lasts
// (*token: the link's token, once prepared).
func (f *Finalizer) approval(c *claim.Claim, now time.Time, units func(*claim.Claim, time.Time) ([]store.Op, error), token *string) store.Step {
	return store.Step{
		From: c, AtVersion: c.Version, Action: claim.ActionApproved, Actor: system, At: now,
		Edit: func(next *claim.Claim, ev *claim.Event) ([]store.Op, error) {
			next.StatusReason = nil
			ops, err := units(next, ev.At)
			if err != nil || f.Customers == nil {
				return ops, err
			}
			t, op, err := f.declineToken(c, next)
			*token = t
			return append(ops, op), err
		},
	}
}

// declineToken makes a decline link's token for an approval and the op
// that stores its hash.
func (f *Finalizer) declineToken(c, approved *claim.Claim) (string, store.Op, error) {
	token, hash := claim.NewOptOutToken()
	op, err := f.Store.TokenOp(store.Token{Hash: hash, ClaimID: c.ID, Version: approved.Version, Kind: store.TokenDecline})
	return token, op, err
}

// welcome emails the customer contact of a committed approval its decline
// link. Not retried: the token exists only in this email (logged).
func (f *Finalizer) welcome(ctx context.Context, c *claim.Claim, token string) {
	if f.Customers == nil || token == "" {
		return
	}
	if err := f.Customers.NotifyCustomerApproved(ctx, c, f.PublicBaseURL+"/decline/"+token); err != nil {
		f.Log.ErrorContext(ctx, "customer's approval email not sent", "claimId", c.ID, "error", err)
	}
}

// commitGroup commits one group, decides again alone each decision whose
// units changed, and sends the committed decisions' partner notices.
func (f *Finalizer) commitGroup(ctx context.Context, g []decision, now time.Time, mailSem chan struct{}, record func(outcome)) {
	changes := make([]store.Change, len(g))
	for i, d := range g {
		changes[i] = d.change
	}
	errs := f.Store.CommitGroup(ctx, changes)
	var committed []*claim.Claim
	var welcomes []decision
	for i, err := range errs {
		d := g[i]
		switch {
		case err == nil:
			record(d.o)
			committed = append(committed, d.change.Claim)
			if d.declineToken != "" {
				welcomes = append(welcomes, d)
			}
		case errors.Is(err, store.ErrAssociationChanged):
			record(f.decideAlone(ctx, d.claim, now, nil))
		case store.IsLostRace(err):
			// Decided meanwhile by another run, an opt-out or the
			// partner: that change has its own outcome and event.
			record(skipped)
		case ctx.Err() != nil:
			// The function's time is up: the claim is still due.
		default:
			record(f.failed(ctx, d.claim, now, err))
		}
	}
	var wg sync.WaitGroup
	for _, d := range welcomes {
		mailSem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-mailSem }()
			f.welcome(ctx, d.change.Claim, d.declineToken)
		}()
	}
	wg.Wait()
	f.tellAll(ctx, committed, mailSem)
}

// tellAll sends the partner notices of committed decisions (up to
// Concurrency emails at once across the run) and marks those sent, many
// per transaction. A notice not sent or not marked stays due: a later run
// sends it.
func (f *Finalizer) tellAll(ctx context.Context, cs []*claim.Claim, mailSem chan struct{}) {
	sent := make([]bool, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		if !claim.NeedsPartnerNotice(c) || c.PartnerNotifiedAt != nil {
			continue
		}
		mailSem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-mailSem }()
			if err := f.Mail.NotifyPartner(ctx, c); err != nil {
				f.Log.ErrorContext(ctx, "partner notice not sent; the scheduled run sends it later", "claimId", c.ID, "error", err)
				return
			}
			sent[i] = true
		}()
	}
	wg.Wait()
	var mark []*claim.Claim
	for i, c := range cs {
		if sent[i] {
			mark = append(mark, c)
		}
	}
	for i, err := range f.Store.MarkPartnersNotified(ctx, mark, f.Clock()) {
		if err != nil && !errors.Is(err, store.ErrVersionConflict) {
			f.Log.ErrorContext(ctx, "partner notice sent but not marked; it may be sent again", "claimId", mark[i].ID, "error", err)
		}
	}
}

var (
	noResponse = claim.StatusReason{Code: claim.ReasonNoResponse,
		Message: "No response to the request for more information within five business days."}
	conflictReason = claim.StatusReason{Code: claim.ReasonConflict,
		Message: "Another partner was associated with one or more of these workloads or subscriptions first."}
)

// rejection is the step that rejects c at now for reason.
func rejection(c *claim.Claim, now time.Time, reason claim.StatusReason) store.Step {
	return store.Step{
		From: c, AtVersion: c.Version, Action: claim.ActionRejected, Actor: system, At: now,
		Detail: map[string]string{"reason": reason.Code},
		Edit: func(next *claim.Claim, _ *claim.Event) ([]store.Op, error) {
			r := reason
			next.StatusReason = &r
			return nil, nil
		},
	}
}

// decideAlone decides one claim with its own transaction (and reads):
// re-queues, late notices, and decisions that must be made again.
func (f *Finalizer) decideAlone(ctx context.Context, c *claim.Claim, now time.Time, known *store.Holdings) outcome {
	o, err := f.decide(ctx, c, now, known)
	if err != nil {
		if ctx.Err() != nil {
			return skipped
		}
		return f.failed(ctx, c, now, err)
	}
	return o
}

// failed handles a decision that failed for a reason other than a lost
// race: logged with the claim's id, counted (FinalizeDecisionFailed), and
// the claim's due time pushed back under its version, so the run goes on
// with the others and a later run tries it again.
func (f *Finalizer) failed(ctx context.Context, c *claim.Claim, now time.Time, err error) outcome {
	f.Log.ErrorContext(ctx, "finalize decision failed; the claim is tried again by a later run", "claimId", c.ID,
		"status", c.Status, "error", err)
	if merr := f.Metrics.Count(MetricDecisionFailed, 1, map[string]string{"claimId": c.ID}); merr != nil {
		f.Log.ErrorContext(ctx, "metric not written", "claimId", c.ID, "error", merr)
	}
	retry := f.RetryAfter
	if retry <= 0 {
		retry = DefaultRetryAfter
	}
	if derr := f.Store.Defer(ctx, c, now.Add(retry)); derr != nil && !errors.Is(derr, store.ErrVersionConflict) {
		f.Log.ErrorContext(ctx, "failed decision not pushed back; the next run tries it again", "claimId", c.ID, "error", derr)
	}
	return failed
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

// lapsedAt: NeedsInfo, and the respond-by date passed at now.
func lapsedAt(c *claim.Claim, now time.Time) bool {
	return c.Status == claim.StatusNeedsInfo && c.RespondBy != nil && !now.Before(*c.RespondBy)
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
	case lapsedAt(c, now):
		o, err = f.reject(ctx, c, now, noResponse)
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
	// The units as read for the page first; a retry reads them again.
	units := func(next *claim.Claim, at time.Time) ([]store.Op, error) {
		ops, err := f.Store.ApprovalOps(ctx, next, at, known)
		known = nil
		return ops, err
	}
	var token string
	next, err := store.Transition(ctx, f.Store, c.ID, f.approval(c, now, units, &token))
	if errors.Is(err, store.ErrAssociationHeld) {
		return f.reject(ctx, c, now, conflictReason)
	}
	if err != nil {
		return skipped, err
	}
	f.welcome(ctx, next, token)
	f.tell(ctx, next)
	return approved, nil
}

func (f *Finalizer) reject(ctx context.Context, c *claim.Claim, now time.Time, reason claim.StatusReason) (outcome, error) {
	next, err := store.Transition(ctx, f.Store, c.ID, rejection(c, now, reason))
	if err != nil {
		return skipped, err
	}
	f.tell(ctx, next)
	return rejected, nil
}

func (f *Finalizer) tell(ctx context.Context, c *claim.Claim) {
	_ = notice.Partner(ctx, f.Store, f.Mail, c, f.Clock(), f.Log)
}
