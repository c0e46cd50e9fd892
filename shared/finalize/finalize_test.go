package finalize_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/claim/claimtest"
	"github.com/cpor-claims/claims/shared/finalize"
	"github.com/cpor-claims/claims/shared/metrics"
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
	tb := testenv.DynamoDB(t)
	st := store.New(tb.DB, tb.Name, store.WithDueShards(4))
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

// A failed SendMessage is one failed decision: counted, pushed back on the
// due index, and retried by a later run.
func TestFailedRequeueIsRetriedNextRun(t *testing.T) {
	st, jobs, f := setup(t)
	stuck := seed(t, st, "p1", "10000000-0000-4000-8000-000000000002", "teams", time.Time{}, claim.ActionSubmitted)
	jobs.fail = errors.New("sqs down")
	if res, err := f.Run(context.Background(), t0); err != nil || res.Failed != 1 || res.Requeued != 0 {
		t.Fatalf("run with SQS down: %+v %v, want one failed decision", res, err)
	}
	jobs.fail = nil
	if res, err := f.Run(context.Background(), t0); err != nil || res.Requeued+res.Failed != 0 {
		t.Fatalf("pushed back, so not due at once: %+v %v", res, err)
	}
	res, err := f.Run(context.Background(), t0.Add(finalize.DefaultRetryAfter))
	if err != nil || res.Requeued != 1 || jobs.jobs[0].ClaimID != stuck.ID {
		t.Fatalf("retry: %+v %v %+v", res, err, jobs.jobs)
	}
}

// failingDB is DynamoDB Local with every transaction that writes one
// chosen claim failing, as an item DynamoDB cannot write would.
type failingDB struct {
	store.DB
	bad atomic.Value // claim id
}

func (d *failingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	bad, _ := d.bad.Load().(string)
	for _, it := range in.TransactItems {
		if it.Put != nil && bad != "" {
			if pk, ok := it.Put.Item["pk"].(*types.AttributeValueMemberS); ok && pk.Value == "CLAIM#"+bad {
				return nil, &smithy.GenericAPIError{Code: "InternalServerError", Message: "injected: this claim cannot be written"}
			}
		}
	}
	return d.DB.TransactWriteItems(ctx, in, o...)
}

// One claim whose decision fails on every run does not stop finalize: three
// runs in a row decide all the others, and each logs the failure with the
// claim's id, counts it (CloudWatch EMF) and pushes the claim back.
func TestOneBadClaimCannotStopFinalize(t *testing.T) {
	tb := testenv.DynamoDB(t)
	db := &failingDB{DB: tb.DB}
	st := store.New(db, tb.Name, store.WithDueShards(4))
	var emf, logs bytes.Buffer
	var logMu sync.Mutex
	f := &finalize.Finalizer{Store: st, Jobs: &recorder{}, Mail: noMail{}, Clock: time.Now, PageSize: 7,
		Log:     slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &logMu}, nil)),
		Metrics: &metrics.EMF{W: &emf, Dimensions: map[string]string{"Stage": "test"}, Clock: time.Now}}
	// The bad claim has the earliest deadline: it is the first decided.
	bad := seed(t, st, "p-bad", "50000000-0000-4000-8000-000000000000", "teams", t0.Add(-48*time.Hour), toPending...)
	db.bad.Store(bad.ID)
	now := t0
	for run := range 3 {
		var others []string
		for i := range 10 {
			tenant := fmt.Sprintf("5%07d-0000-4000-8000-%012d", run, i)
			others = append(others, seed(t, st, "p1", tenant, "teams", now.Add(-time.Minute), toPending...).ID)
		}
		r, err := f.Run(context.Background(), now)
		if err != nil || r.Approved != len(others) || r.Failed != 1 {
			t.Fatalf("run %d: %+v %v, want %d approved and the bad claim failed", run, r, err, len(others))
		}
		for _, id := range others {
			if s, _ := status(t, st, id); s != claim.StatusApproved {
				t.Fatalf("run %d: claim %s is %s", run, id, s)
			}
		}
		if s, _ := status(t, st, bad.ID); s != claim.StatusPendingCustomer {
			t.Fatalf("run %d: the bad claim is %s", run, s)
		}
		// Pushed back: a run at the same moment does not try it again.
		if r, err := f.Run(context.Background(), now); err != nil || r.Failed != 0 {
			t.Fatalf("run %d again: %+v %v, want the bad claim pushed back", run, r, err)
		}
		now = now.Add(finalize.DefaultRetryAfter)
	}
	var records int
	for _, line := range strings.Split(strings.TrimSpace(emf.String()), "\n") {
		var rec struct {
			AWS struct {
				CloudWatchMetrics []struct {
					Namespace  string
					Dimensions [][]string
					Metrics    []struct{ Name, Unit string }
				}
			} `json:"_aws"`
			Failed  int    `json:"FinalizeDecisionFailed"`
			ClaimID string `json:"claimId"`
			Stage   string
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("EMF line %q: %v", line, err)
		}
		m := rec.AWS.CloudWatchMetrics
		if len(m) != 1 || m[0].Namespace != "CporClaims" || len(m[0].Metrics) != 1 || m[0].Metrics[0].Name != finalize.MetricDecisionFailed ||
			m[0].Metrics[0].Unit != "Count" || fmt.Sprint(m[0].Dimensions) != "[[Stage]]" || rec.Failed != 1 || rec.ClaimID != bad.ID || rec.Stage != "test" {
			t.Fatalf("EMF record %s", line)
		}
		records++
	}
	if records != 3 {
		t.Fatalf("%d EMF records, want one per run", records)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if n := strings.Count(logs.String(), `"claimId":"`+bad.ID+`"`); n < 3 {
		t.Fatalf("the failure is logged with the claim id %d times, want 3:\n%s", n, logs.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
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

// lateMail sends a partner notice only once until has passed, so the run's
// time is up right after its first decision, however slow the machine.
type lateMail struct{ until time.Time }

func (m lateMail) NotifyPartner(context.Context, *claim.Claim) error {
	time.Sleep(time.Until(m.until))
	return nil
}

func TestStopsInTheMiddleOfAPage(t *testing.T) {
	st, _, f := setup(t)
	const n = 12
	for i := range n {
		seed(t, st, "p1", fmt.Sprintf("31000000-0000-4000-8000-%012d", i), "teams", t0.Add(-time.Hour), toPending...)
	}
	// The run has 3 s before its margin (enough to read the page on a
	// loaded machine); its first decision's notice ends just after them, so
	// no second decision starts. The margin (5 s) leaves the decision under
	// way time to end. One decision per group, so that the run's time ends
	// between groups of its one page. No time is asserted: the run stops
	// because its deadline passed, whenever that is.
	const window, margin = 3 * time.Second, 5 * time.Second
	start := time.Now()
	f.PageSize, f.Concurrency, f.Margin, f.Mail = 100, 1, margin, lateMail{until: start.Add(window + 50*time.Millisecond)}
	f.GroupItems = 3
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(margin+window))
	defer cancel()
	res, err := f.Run(ctx, t0)
	if err != nil || !res.Partial || res.Approved == 0 || res.Approved >= n {
		t.Fatalf("%+v %v, want a partial run that stopped inside its one page", res, err)
	}
	first := res.Approved
	f.Mail = lateMail{}
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

// Outside the local stage an invocation with a far-future time cannot end
// an opt-out window early: the run uses the wall clock plus five minutes at
// most. On the local stage the event's time moves the clock (the runner's
// invocation endpoint, the tests).
func TestEventTimeIsTrustedOnlyOnTheLocalStage(t *testing.T) {
	st, _, f := setup(t)
	wall := t0
	f.Clock = func() time.Time { return wall }
	tenant := "60000000-0000-4000-8000-00000000000%d"
	inSkew := seed(t, st, "p1", fmt.Sprintf(tenant, 1), "teams", wall.Add(4*time.Minute), toPending...)
	tomorrow := seed(t, st, "p1", fmt.Sprintf(tenant, 2), "teams", wall.Add(24*time.Hour), toPending...)
	future := finalize.Event{ScheduledTime: wall.Add(30 * 24 * time.Hour)}

	for _, stage := range []string{"prod", "dev", ""} {
		f.Stage = stage
		if _, err := f.Handle(context.Background(), future); err != nil {
			t.Fatal(err)
		}
		if s, _ := status(t, st, tomorrow.ID); s != claim.StatusPendingCustomer {
			t.Fatalf("stage %q: a far-future event decided a claim due tomorrow: %s", stage, s)
		}
	}
	if s, _ := status(t, st, inSkew.ID); s != claim.StatusApproved {
		t.Fatalf("a claim due within the allowed skew: %s", s)
	}
	// An envelope's time is held to the same bound.
	f.Stage = "prod"
	if res, err := f.Handle(context.Background(), finalize.Event{Time: wall.Add(48 * time.Hour)}); err != nil || res.Approved != 0 {
		t.Fatalf("envelope time: %+v %v", res, err)
	}
	f.Stage = finalize.LocalStage
	res, err := f.Handle(context.Background(), future)
	if err != nil || res.Approved != 1 {
		t.Fatalf("local stage: %+v %v, want the claim due tomorrow decided", res, err)
	}
	if s, _ := status(t, st, tomorrow.ID); s != claim.StatusApproved {
		t.Fatalf("local stage: %s", s)
	}
}

// countingDB counts TransactWriteItems calls and their items, and runs
// before (once) ahead of the first one.
type countingDB struct {
	store.DB
	mu     sync.Mutex
	calls  int
	items  []int
	before func()
}

func (d *countingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	d.mu.Lock()
	before := d.before
	d.before = nil
	d.calls++
	d.items = append(d.items, len(in.TransactItems))
	d.mu.Unlock()
	if before != nil {
		before()
	}
	return d.DB.TransactWriteItems(ctx, in, o...)
}

// A group in which one claim was opted out a moment before it committed is
// cancelled by that claim's condition alone: the others are committed again
// together, and the opted-out claim stays OptedOut, without an approval.
func TestAGroupCommitsAroundAClaimOptedOutAMomentBefore(t *testing.T) {
	tb := testenv.DynamoDB(t)
	raw := tb.DB
	db := &countingDB{DB: raw}
	st := store.New(db, tb.Name, store.WithDueShards(4))
	direct := store.New(raw, tb.Name, store.WithDueShards(4))
	f := &finalize.Finalizer{Store: st, Jobs: &recorder{}, Mail: noMail{}, Clock: time.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PageSize: 100}
	var ids []string
	for i := range 20 {
		ids = append(ids, seed(t, direct, "p1", fmt.Sprintf("70000000-0000-4000-8000-%012d", i), "teams", t0.Add(-time.Hour), toPending...).ID)
	}
	optedOut := ids[7]
	db.before = func() {
		// The customer opts out between the run's read and its commit.
		c, err := direct.Get(context.Background(), optedOut)
		if err != nil {
			t.Error(err)
			return
		}
		next := *c
		ev, err := claim.Apply(&next, claim.ActionOptedOut, claim.Actor{Type: claim.ActorCustomer, ID: "customer"}, t0.Add(-time.Minute), nil)
		if err != nil {
			t.Error(err)
			return
		}
		next.StatusReason = &claim.StatusReason{Code: claim.ReasonOptedOut, Message: "The customer opted out of the association."}
		if err := direct.Commit(context.Background(), store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev}); err != nil {
			t.Error(err)
		}
	}
	r, err := f.Run(context.Background(), t0)
	if err != nil || r.Approved != 19 || r.Skipped != 1 || r.Failed != 0 {
		t.Fatalf("%+v %v, want 19 approved and the opted-out claim skipped", r, err)
	}
	for _, id := range ids {
		want := claim.StatusApproved
		if id == optedOut {
			want = claim.StatusOptedOut
		}
		if s, _ := status(t, st, id); s != want {
			t.Errorf("claim %s: %s, want %s", id, s, want)
		}
	}
	evs, err := st.History(context.Background(), optedOut)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Action == claim.ActionApproved {
			t.Fatalf("the opted-out claim has an approval in its history: %+v", evs)
		}
	}
	if units, err := st.Units(context.Background(), "70000000-0000-4000-8000-000000000007", "teams"); err != nil || len(units) != 0 {
		t.Fatalf("the opted-out claim's workload: %+v %v", units, err)
	}
	// 20 decisions of 3 items: one group, cancelled; the 19 others again in
	// one; their 19 partner notices marked in one more.
	db.mu.Lock()
	defer db.mu.Unlock()
	if fmt.Sprint(db.items) != "[60 57 19]" {
		t.Fatalf("transactions of %v items, want [60 57 19]", db.items)
	}
}

// The guard of `make bench-check`: finalize commits its decisions many per
// TransactWriteItems. Counted through an instrumented client on DynamoDB
// Local: 100 due claims (approvals of 3 items, and rejections for no
// response of 2) take a handful of transactions, not one per decision.
func TestFinalizeGroupSize(t *testing.T) {
	tb := testenv.DynamoDB(t)
	raw := tb.DB
	db := &countingDB{DB: raw}
	st := store.New(db, tb.Name, store.WithDueShards(4))
	direct := store.New(raw, tb.Name, store.WithDueShards(4))
	f := &finalize.Finalizer{Store: st, Jobs: &recorder{}, Mail: noMail{}, Clock: time.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	const n = 100
	for i := range n {
		tenant := fmt.Sprintf("71000000-0000-4000-8000-%012d", i)
		if i%4 == 0 {
			seed(t, direct, "p1", tenant, "teams", t0.Add(-time.Hour), claim.ActionSubmitted, claim.ActionMoreInfoRequested)
		} else {
			seed(t, direct, "p1", tenant, "teams", t0.Add(-time.Hour), toPending...)
		}
	}
	r, err := f.Run(context.Background(), t0)
	if err != nil || r.Approved != n*3/4 || r.Rejected != n/4 {
		t.Fatalf("%+v %v", r, err)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	decisions, largest := r.Approved+r.Rejected, 0
	for _, it := range db.items {
		largest = max(largest, it)
	}
	// Decisions and notice marks: at least 10 decisions per call on
	// average, and full groups of at most 100 items.
	if db.calls*10 > decisions || largest > store.MaxGroupItems || largest < store.MaxGroupItems-3 {
		t.Fatalf("%d TransactWriteItems calls (items %v) for %d decisions: the group size fell back", db.calls, db.items, decisions)
	}
	t.Logf("%d decisions in %d TransactWriteItems calls (items %v)", decisions, db.calls, db.items)
}
