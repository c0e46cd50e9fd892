package finalize_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/claim/claimtest"
	"github.com/cpor-claims/claims/shared/finalize"
	"github.com/cpor-claims/claims/shared/queue"
	"github.com/cpor-claims/claims/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var t0 = time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)

type recorder struct {
	mu   sync.Mutex
	jobs []queue.Job
	fail error
}

func (r *recorder) Send(_ context.Context, j queue.Job) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.jobs = append(r.jobs, j)
	return nil
}

type noMail struct{}

func (noMail) NotifyPartner(context.Context, *claim.Claim) error { return nil }

func setup(t *testing.T) (*store.Store, *recorder, *finalize.Finalizer) {
	t.Helper()
	res := testenv.Provision(t)
	st := store.New(awsclient.DynamoDB(testenv.AWSConfig(t)), res.TableName, store.WithDueShards(4))
	jobs := &recorder{}
	f := &finalize.Finalizer{Store: st, Jobs: jobs, Mail: noMail{}, Clock: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PageSize: 7}
	return st, jobs, f
}

var sys = claim.Actor{Type: claim.ActorSystem, ID: "test"}

// seed stores a claim moved through actions; the last step's claim is
// returned. deadline sets the opt-out deadline (notified) or respond-by.
func seed(t *testing.T, st *store.Store, partner, tenant, product string, deadline time.Time, actions ...claim.Action) *claim.Claim {
	t.Helper()
	ctx := context.Background()
	c := claimtest.Complete(partner, tenant, t0.Add(-240*time.Hour))
	c.Products = []claim.ProductRef{{ID: product}}
	if err := st.Create(ctx, c, claim.Event{At: c.CreatedAt, Action: claim.ActionCreated}); err != nil {
		t.Fatal(err)
	}
	at := c.CreatedAt
	for _, a := range actions {
		at = at.Add(time.Minute)
		next := *c
		ev, err := claim.Apply(&next, a, sys, at, nil)
		if err != nil {
			t.Fatal(err)
		}
		switch next.Status {
		case claim.StatusPendingCustomer:
			next.OptOutDeadline, next.CustomerNotifiedAt = &deadline, &at
		case claim.StatusNeedsInfo:
			next.RespondBy = &deadline
		}
		if err := st.Commit(ctx, store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev}); err != nil {
			t.Fatal(err)
		}
		c = &next
	}
	return c
}

var toPending = []claim.Action{claim.ActionSubmitted, claim.ActionCustomerNotified}

func status(t *testing.T, st *store.Store, id string) (claim.Status, string) {
	t.Helper()
	c, err := st.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	code := ""
	if c.StatusReason != nil {
		code = c.StatusReason.Code
	}
	return c.Status, code
}

func TestDecidesWhatIsDueAndNothingElse(t *testing.T) {
	st, jobs, f := setup(t)
	tenant := "10000000-0000-4000-8000-000000000001"
	due := seed(t, st, "p1", tenant, "teams", t0.Add(-time.Minute), toPending...)
	atDeadline := seed(t, st, "p1", tenant, "exchange-online", t0, toPending...)
	notYet := seed(t, st, "p1", tenant, "intune", t0.Add(time.Second), toPending...)
	lapsed := seed(t, st, "p2", tenant, "onedrive", t0.Add(-time.Hour), claim.ActionSubmitted, claim.ActionMoreInfoRequested)
	answering := seed(t, st, "p2", tenant, "onedrive", t0.Add(time.Hour), claim.ActionSubmitted, claim.ActionMoreInfoRequested)
	stuck := seed(t, st, "p2", tenant, "sharepoint-online", time.Time{}, claim.ActionSubmitted) // job overdue (submitted 10 days ago)

	res, err := f.Handle(context.Background(), finalize.Event{ScheduledTime: t0}) // as EventBridge Scheduler sends it
	if err != nil {
		t.Fatal(err)
	}
	if res.Approved != 2 || res.Rejected != 1 || res.Requeued != 1 {
		t.Fatalf("result %+v", res)
	}
	for id, want := range map[string]string{
		due.ID: "Approved/", atDeadline.ID: "Approved/", notYet.ID: "PendingCustomer/",
		lapsed.ID: "Rejected/no_response", answering.ID: "NeedsInfo/", stuck.ID: "Submitted/",
	} {
		if s, code := status(t, st, id); string(s)+"/"+code != want {
			t.Errorf("claim %s: %s/%s, want %s", id, s, code, want)
		}
	}
	if len(jobs.jobs) != 1 || jobs.jobs[0].ClaimID != stuck.ID {
		t.Fatalf("re-queued %+v, want the stuck claim's job", jobs.jobs)
	}
	// A second run at the same time finds nothing left to do.
	res, err = f.Handle(context.Background(), finalize.Event{Time: t0}) // an EventBridge envelope's time
	if err != nil || res.Approved+res.Rejected+res.Requeued != 0 {
		t.Fatalf("second run %+v %v", res, err)
	}
}

func TestFailedRequeueIsRetriedNextRun(t *testing.T) {
	st, jobs, f := setup(t)
	stuck := seed(t, st, "p1", "10000000-0000-4000-8000-000000000002", "teams", time.Time{}, claim.ActionSubmitted)
	jobs.fail = errors.New("sqs down")
	if _, err := f.Run(context.Background(), t0); err == nil {
		t.Fatal("a failed SendMessage must fail the run")
	}
	jobs.fail = nil
	res, err := f.Run(context.Background(), t0)
	if err != nil || res.Requeued != 1 || jobs.jobs[0].ClaimID != stuck.ID {
		t.Fatalf("retry: %+v %v %+v", res, err, jobs.jobs)
	}
}

func TestFirstFinalizedWinsTheWorkload(t *testing.T) {
	st, _, f := setup(t)
	f.Concurrency = 8
	tenant := "10000000-0000-4000-8000-000000000003"
	// Five partners' claims for one workload, among unrelated claims on the
	// same pages: claims are decided at once, but those sharing a workload
	// one after another in deadline order, so the earliest deadline wins.
	var contenders []*claim.Claim
	for i := range 5 {
		contenders = append(contenders, seed(t, st, fmt.Sprintf("p%d", i), tenant, "teams", t0.Add(time.Duration(i-6)*time.Hour), toPending...))
		seed(t, st, "other", fmt.Sprintf("10000000-0000-4000-8000-%012d", 100+i), "teams", t0.Add(time.Duration(i-6)*time.Hour), toPending...)
	}
	res, err := f.Run(context.Background(), t0)
	if err != nil || res.Approved != 6 || res.Rejected != 4 {
		t.Fatalf("%+v %v, want 6 approved (the earliest contender and 5 unrelated) and 4 rejected", res, err)
	}
	for i, c := range contenders {
		s, code := status(t, st, c.ID)
		want := "Rejected/" + claim.ReasonConflict
		if i == 0 {
			want = "Approved/"
		}
		if string(s)+"/"+code != want {
			t.Errorf("contender %d (deadline %dh before the run): %s/%s, want %s", i, 6-i, s, code, want)
		}
	}
	units, err := st.Units(context.Background(), tenant, "teams")
	if err != nil || len(units) != 1 || units[0].ClaimID != contenders[0].ID || units[0].SubscriptionID != "" {
		t.Fatalf("units %+v %v, want the workload held by the earliest claim", units, err)
	}
}

func TestConcurrentRunsDecideEachClaimOnce(t *testing.T) {
	st, _, f := setup(t)
	var ids []string
	for i := range 30 {
		tenant := fmt.Sprintf("20000000-0000-4000-8000-%012d", i)
		ids = append(ids, seed(t, st, "p1", tenant, "teams", t0.Add(-time.Hour), toPending...).ID)
	}
	var wg sync.WaitGroup
	results := make([]finalize.Result, 3)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.Run(context.Background(), t0)
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		}()
	}
	wg.Wait()
	approved := 0
	for _, r := range results {
		approved += r.Approved
	}
	if approved != len(ids) {
		t.Fatalf("%d approvals across runs for %d claims: %+v", approved, len(ids), results)
	}
	for _, id := range ids {
		evs, _ := st.History(context.Background(), id)
		n := 0
		for _, e := range evs {
			if e.Action == claim.ActionApproved {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("claim %s has %d approved events", id, n)
		}
	}
}

func TestStopsBeforeTheDeadline(t *testing.T) {
	st, _, f := setup(t)
	for i := range 5 {
		seed(t, st, "p1", fmt.Sprintf("30000000-0000-4000-8000-%012d", i), "teams", t0.Add(-time.Hour), toPending...)
	}
	f.Margin = time.Hour // the context's deadline is already within the margin
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	res, err := f.Run(ctx, t0)
	if err != nil || !res.Partial || res.Approved != 0 {
		t.Fatalf("%+v %v, want a partial run that decided nothing", res, err)
	}
	f.Margin = time.Second
	res, err = f.Run(context.Background(), t0)
	if err != nil || res.Approved != 5 {
		t.Fatalf("next run: %+v %v", res, err)
	}
}

// slowMail makes each decision take a while, so a run's time runs out in
// the middle of a page.
type slowMail struct{ d time.Duration }

func (m slowMail) NotifyPartner(context.Context, *claim.Claim) error { time.Sleep(m.d); return nil }

func TestStopsInTheMiddleOfAPage(t *testing.T) {
	st, _, f := setup(t)
	const n = 12
	for i := range n {
		seed(t, st, "p1", fmt.Sprintf("31000000-0000-4000-8000-%012d", i), "teams", t0.Add(-time.Hour), toPending...)
	}
	// Each decision takes 100 ms; the run has 350 ms before its margin,
	// and the margin (300 ms) leaves the decision under way time to end.
	f.PageSize, f.Concurrency, f.Margin, f.Mail = 100, 1, 300*time.Millisecond, slowMail{100 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond+350*time.Millisecond)
	defer cancel()
	res, err := f.Run(ctx, t0)
	if err != nil || !res.Partial || res.Approved == 0 || res.Approved >= n {
		t.Fatalf("%+v %v, want a partial run that stopped inside its one page", res, err)
	}
	first := res.Approved
	res, err = f.Run(context.Background(), t0)
	if err != nil || res.Partial || res.Approved != n-first {
		t.Fatalf("next run: %+v %v, want the %d left", res, err, n-first)
	}
}

// flakyMail fails while down, and counts what it sent.
type flakyMail struct {
	mu   sync.Mutex
	down bool
	sent []string
}

func (m *flakyMail) NotifyPartner(_ context.Context, c *claim.Claim) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errors.New("ses: throttled")
	}
	m.sent = append(m.sent, c.ID+":"+string(c.Status))
	return nil
}

// A partner notice SES refused when the claim was decided stays due, and a
// later run sends it once; then the claim leaves the due index.
func TestAPartnerNoticeNotSentIsSentLater(t *testing.T) {
	st, _, f := setup(t)
	m := &flakyMail{down: true}
	f.Mail = m
	c := seed(t, st, "p1", "40000000-0000-4000-8000-000000000001", "teams", t0.Add(-time.Hour), toPending...)
	res, err := f.Run(context.Background(), t0)
	if err != nil || res.Approved != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	if got, _ := st.Get(context.Background(), c.ID); got.PartnerNotifiedAt != nil {
		t.Fatal("marked notified although SES refused")
	}
	// Not yet overdue: nothing to send.
	m.down = false
	if res, err := f.Run(context.Background(), t0.Add(time.Minute)); err != nil || res.Notified != 0 {
		t.Fatalf("too early: %+v %v", res, err)
	}
	later := t0.Add(store.DefaultRequeueAfter + time.Minute) // the approval happened at t0
	res, err = f.Run(context.Background(), later)
	if err != nil || res.Notified != 1 || len(m.sent) != 1 || m.sent[0] != c.ID+":Approved" {
		t.Fatalf("later run: %+v %v, sent %v", res, err, m.sent)
	}
	got, _ := st.Get(context.Background(), c.ID)
	if got.PartnerNotifiedAt == nil || got.Status != claim.StatusApproved {
		t.Fatalf("after the notice: %+v", got)
	}
	res, err = f.Run(context.Background(), later.Add(24*time.Hour))
	if err != nil || res.Notified+res.Approved+res.Rejected+res.Requeued != 0 || len(m.sent) != 1 {
		t.Fatalf("the notice is sent again: %+v %v, sent %v", res, err, m.sent)
	}
}
