package optout_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/claim/claimtest"
	"github.com/cpor-claims/claims/shared/optout"
	"github.com/cpor-claims/claims/shared/optout/optouttest"
	"github.com/cpor-claims/claims/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	notified = time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)
	deadline = time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
)

type partnerMails struct {
	mu  sync.Mutex
	got []claim.Status
}

func (p *partnerMails) NotifyPartner(_ context.Context, c *claim.Claim) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, c.Status)
	return nil
}

func setup(t *testing.T) (*store.Store, *optout.Handler, *partnerMails) {
	t.Helper()
	tb := testenv.DynamoDB(t)
	st := store.New(tb.DB, tb.Name)
	mails := &partnerMails{}
	loc, _ := time.LoadLocation("America/Los_Angeles")
	h := &optout.Handler{Store: st, Mail: mails, Location: loc, Clock: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return st, h, mails
}

var sys = claim.Actor{Type: claim.ActorSystem, ID: "t"}

// step applies action to the stored claim c and commits it with ops.
func step(t *testing.T, st *store.Store, c *claim.Claim, action claim.Action, at time.Time, ops ...store.Op) *claim.Claim {
	t.Helper()
	next := *c
	ev, err := claim.Apply(&next, action, sys, at, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(context.Background(), store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev, Ops: ops}); err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	return &next
}

// notify takes a Submitted claim to PendingCustomer with a fresh token, as
// the worker does, and returns the claim and the token.
func notify(t *testing.T, st *store.Store, sub *claim.Claim, at, dl time.Time) (*claim.Claim, string) {
	t.Helper()
	token, hash := claim.NewOptOutToken()
	op, err := st.TokenOp(store.Token{Hash: hash, ClaimID: sub.ID, Version: sub.Version + 1, Deadline: dl})
	if err != nil {
		t.Fatal(err)
	}
	next := *sub
	ev, err := claim.Apply(&next, claim.ActionCustomerNotified, sys, at, nil)
	if err != nil {
		t.Fatal(err)
	}
	next.OptOutDeadline, next.CustomerNotifiedAt = &dl, &at
	if err := st.Commit(context.Background(), store.Change{Claim: &next, ExpectStatus: sub.Status, ExpectVersion: sub.Version, Event: ev, Ops: []store.Op{op}}); err != nil {
		t.Fatal(err)
	}
	return &next, token
}

// pending stores a claim the customer was notified of and returns the token.
func pending(t *testing.T, st *store.Store) (*claim.Claim, string) {
	t.Helper()
	c := claimtest.Complete("p1", "40000000-0000-4000-8000-000000000001", notified.Add(-48*time.Hour))
	if err := st.Create(context.Background(), c, claim.Event{At: c.CreatedAt, Action: claim.ActionCreated}); err != nil {
		t.Fatal(err)
	}
	return notify(t, st, step(t, st, c, claim.ActionSubmitted, notified.Add(-time.Hour)), notified, deadline)
}

func request(method, token string, at time.Time) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		RouteKey:       method + " /opt-out/{token}",
		RawPath:        "/opt-out/" + token,
		PathParameters: map[string]string{"token": token},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			TimeEpoch: at.UnixMilli(),
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: "/opt-out/" + token},
		},
	}
}

func call(t *testing.T, h *optout.Handler, method, token string, at time.Time) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := h.Handle(context.Background(), request(method, token, at))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func statusOf(t *testing.T, st *store.Store, id string) claim.Status {
	t.Helper()
	c, err := st.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

func TestPageThenOptOutThenRepeat(t *testing.T) {
	st, h, mails := setup(t)
	c, token := pending(t, st)
	before := notified.Add(time.Hour)

	for range 2 { // a mail scanner's GETs change nothing
		resp := call(t, h, http.MethodGet, token, before)
		if resp.StatusCode != 200 || !strings.Contains(resp.Body, `<form method="post">`) {
			t.Fatalf("GET: %d\n%s", resp.StatusCode, resp.Body)
		}
		for _, want := range []string{"Fabrikam Partners &lt;Ltd&gt;", "Microsoft Teams", c.Customer.TenantID, "Contoso &lt;script&gt;", "the end of Wednesday 2 December 2026, Pacific time (Thursday 3 December 2026 08:00 UTC)"} {
			if !strings.Contains(resp.Body, want) {
				t.Fatalf("page lacks %q", want)
			}
		}
		checkPage(t, resp, http.StatusOK)
	}
	if s := statusOf(t, st, c.ID); s != claim.StatusPendingCustomer {
		t.Fatalf("GET changed the claim: %s", s)
	}
	resp := call(t, h, http.MethodPost, token, before)
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `id="confirmation"`) {
		t.Fatalf("POST: %d\n%s", resp.StatusCode, resp.Body)
	}
	checkPage(t, resp, http.StatusOK)
	if s := statusOf(t, st, c.ID); s != claim.StatusOptedOut {
		t.Fatalf("after POST: %s", s)
	}
	for _, m := range []string{http.MethodPost, http.MethodGet} {
		again := call(t, h, m, token, before.Add(time.Minute))
		if again.StatusCode != 200 || !strings.Contains(again.Body, `id="confirmation"`) {
			t.Fatalf("repeat %s: %d", m, again.StatusCode)
		}
	}
	evs, _ := st.History(context.Background(), c.ID)
	last := evs[len(evs)-1]
	if last.Action != claim.ActionOptedOut || last.Actor.Type != claim.ActorCustomer || len(evs) != 4 {
		t.Fatalf("history %+v", evs)
	}
	if fmt.Sprint(mails.got) != "[OptedOut]" {
		t.Fatalf("partner notices %v", mails.got)
	}
}

func TestGoneAndUnknownLinks(t *testing.T) {
	st, h, _ := setup(t)
	c, token := pending(t, st)
	if r := call(t, h, http.MethodPost, token, deadline); r.StatusCode != http.StatusGone {
		t.Fatalf("POST at the deadline: %d", r.StatusCode)
	}
	if r := call(t, h, http.MethodGet, token, deadline.Add(-time.Millisecond)); r.StatusCode != 200 {
		t.Fatalf("GET just before the deadline: %d", r.StatusCode)
	}
	if s := statusOf(t, st, c.ID); s != claim.StatusPendingCustomer {
		t.Fatalf("late POST changed the claim: %s", s)
	}
	other, _ := claim.NewOptOutToken()
	for _, tok := range []string{other, "short", strings.Repeat("!", claim.TokenLen), token + "x"} {
		if r := call(t, h, http.MethodGet, tok, notified); r.StatusCode != http.StatusNotFound {
			t.Fatalf("token %q: %d, want 404", tok, r.StatusCode)
		}
	}
	// Withdrawn by the partner: the link is gone.
	cur, _ := st.Get(context.Background(), c.ID)
	next := *cur
	ev, _ := claim.Apply(&next, claim.ActionWithdrawn, claim.Actor{Type: claim.ActorPartner, ID: "u"}, notified.Add(time.Hour), nil)
	if err := st.Commit(context.Background(), store.Change{Claim: &next, ExpectStatus: cur.Status, ExpectVersion: cur.Version, Event: ev}); err != nil {
		t.Fatal(err)
	}
	if r := call(t, h, http.MethodPost, token, notified.Add(2*time.Hour)); r.StatusCode != http.StatusGone {
		t.Fatalf("withdrawn: %d", r.StatusCode)
	}
}

func TestConcurrentOptOutsRecordOne(t *testing.T) {
	st, h, _ := setup(t)
	c, token := pending(t, st)
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := h.Handle(context.Background(), request(http.MethodPost, token, notified.Add(time.Hour)))
			if err != nil {
				t.Error(err)
			}
			codes[i] = r.StatusCode
		}()
	}
	wg.Wait()
	for _, code := range codes {
		if code != 200 {
			t.Fatalf("codes %v: every double click sees the confirmation", codes)
		}
	}
	evs, _ := st.History(context.Background(), c.ID)
	n := 0
	for _, e := range evs {
		if e.Action == claim.ActionOptedOut {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d opted_out events", n)
	}
}

// forbiddenRE: anything that would load, run or style outside the one
// hashed <style>.
var forbiddenRE = regexp.MustCompile(`(?i)<script|<link|<img|<iframe|<object|<embed|<base|\ssrc=|\sstyle=|\son[a-z]+=|javascript:|action=`)

// checkPage asserts one opt-out page's status, its exact security headers
// (the whole set, nothing missing, nothing extra) and the head every page
// needs: a viewport for phones, robots noindex, and nothing the CSP does not
// allow (its only style is the one the CSP's hash names).
func checkPage(t *testing.T, resp events.APIGatewayV2HTTPResponse, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d\n%s", resp.StatusCode, status, resp.Body)
	}
	want, err := optouttest.Headers(resp.Body)
	if err != nil {
		t.Fatalf("%v:\n%s", err, resp.Body)
	}
	if fmt.Sprint(resp.Headers) != fmt.Sprint(want) {
		t.Fatalf("headers\n got %v\nwant %v", resp.Headers, want)
	}
	if len(resp.MultiValueHeaders) != 0 || len(resp.Cookies) != 0 {
		t.Fatalf("extra headers %v cookies %v", resp.MultiValueHeaders, resp.Cookies)
	}
	for _, tag := range []string{
		`<meta charset="utf-8">`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`<meta name="robots" content="noindex, nofollow">`,
		`<meta name="referrer" content="no-referrer">`,
	} {
		if n := strings.Count(resp.Body, tag); n != 1 {
			t.Fatalf("%q appears %d times, want once:\n%s", tag, n, resp.Body)
		}
	}
	if m := forbiddenRE.FindString(resp.Body); m != "" {
		t.Fatalf("page has %q, which the CSP forbids or the page must not need:\n%s", m, resp.Body)
	}
}

// Every page the link can lead to, error pages too, carries the same
// headers and head.
func TestEveryPageIsLockedDown(t *testing.T) {
	st, h, _ := setup(t)
	c, token := pending(t, st)
	at := notified.Add(time.Hour)
	unknown, _ := claim.NewOptOutToken()
	checkPage(t, call(t, h, http.MethodGet, unknown, at), http.StatusNotFound)
	checkPage(t, call(t, h, http.MethodPost, "malformed", at), http.StatusNotFound)
	checkPage(t, call(t, h, http.MethodPut, token, at), http.StatusMethodNotAllowed)
	checkPage(t, call(t, h, http.MethodGet, token, deadline), http.StatusGone)
	checkPage(t, call(t, h, http.MethodGet, token, at), http.StatusOK)
	checkPage(t, call(t, h, http.MethodPost, token, at), http.StatusOK)
	checkPage(t, call(t, h, http.MethodGet, token, at), http.StatusOK) // already opted out
	if s := statusOf(t, st, c.ID); s != claim.StatusOptedOut {
		t.Fatalf("status %s", s)
	}
	// The store failing: the error page.
	broken := *h
	broken.Store = store.New(testenv.Client(t), "no-such-table")
	resp := call(t, &broken, http.MethodGet, token, at)
	checkPage(t, resp, http.StatusInternalServerError)
	if !strings.Contains(resp.Body, `id="error"`) {
		t.Fatalf("error page:\n%s", resp.Body)
	}
}

// page asks for the link at a moment and asserts the page's status and kind
// (its marker element), with the headers every page carries.
func page(t *testing.T, h *optout.Handler, method, token string, at time.Time, status int, marker string) {
	t.Helper()
	resp := call(t, h, method, token, at)
	if resp.StatusCode != status || !strings.Contains(resp.Body, marker) {
		t.Fatalf("%s at %s: %d, want %d with %s\n%s", method, at.Format(time.RFC3339), resp.StatusCode, status, marker, resp.Body)
	}
	checkPage(t, resp, status)
}

const (
	formPage = `<form method="post">`
	donePage = `id="confirmation"`
	gonePage = `id="gone"`
	nonePage = `id="notfound"`
)

// What a link shows, API.md's table, at any age: a token that was never
// issued is 404; the link the customer opted out with is 200 "already opted
// out"; past its deadline, or its claim no longer pending (approved,
// withdrawn, superseded by a newer notification after a dispute), 410;
// all of it still years after the deadline, long after the 30-day grace at
// which token items used to expire.
func TestWhatALinkShowsAtAnyAge(t *testing.T) {
	st, h, _ := setup(t)
	ctx := context.Background()
	at := notified.Add(time.Hour)
	graceOver := deadline.Add(31 * 24 * time.Hour) // the old TTL grace was 30 days
	yearsLater := deadline.Add(3 * 365 * 24 * time.Hour)

	t.Run("unknown", func(t *testing.T) {
		unknown, _ := claim.NewOptOutToken()
		for _, when := range []time.Time{at, yearsLater} {
			page(t, h, http.MethodGet, unknown, when, http.StatusNotFound, nonePage)
			page(t, h, http.MethodPost, unknown, when, http.StatusNotFound, nonePage)
		}
	})

	t.Run("opted out", func(t *testing.T) {
		c, token := pending(t, st)
		page(t, h, http.MethodPost, token, at, http.StatusOK, donePage)
		for _, when := range []time.Time{at.Add(time.Minute), deadline, graceOver, yearsLater} {
			page(t, h, http.MethodGet, token, when, http.StatusOK, donePage)
			page(t, h, http.MethodPost, token, when, http.StatusOK, donePage)
		}
		if evs, _ := st.History(ctx, c.ID); len(evs) != 4 {
			t.Fatalf("repeats changed the history: %+v", evs)
		}
	})

	t.Run("past the deadline", func(t *testing.T) {
		c, token := pending(t, st) // not finalized yet: still PendingCustomer
		page(t, h, http.MethodGet, token, deadline.Add(-time.Millisecond), http.StatusOK, formPage)
		for _, when := range []time.Time{deadline, graceOver, yearsLater} {
			page(t, h, http.MethodGet, token, when, http.StatusGone, gonePage)
			page(t, h, http.MethodPost, token, when, http.StatusGone, gonePage)
		}
		if s := statusOf(t, st, c.ID); s != claim.StatusPendingCustomer {
			t.Fatalf("a late POST changed the claim: %s", s)
		}
	})

	t.Run("approved", func(t *testing.T) {
		c, token := pending(t, st)
		step(t, st, c, claim.ActionApproved, deadline)
		for _, when := range []time.Time{at, graceOver, yearsLater} {
			page(t, h, http.MethodGet, token, when, http.StatusGone, gonePage)
			page(t, h, http.MethodPost, token, when, http.StatusGone, gonePage)
		}
		if s := statusOf(t, st, c.ID); s != claim.StatusApproved {
			t.Fatalf("status %s", s)
		}
	})

	t.Run("withdrawn", func(t *testing.T) {
		c, token := pending(t, st)
		step(t, st, c, claim.ActionWithdrawn, at)
		for _, when := range []time.Time{at.Add(time.Minute), yearsLater} {
			page(t, h, http.MethodGet, token, when, http.StatusGone, gonePage)
			page(t, h, http.MethodPost, token, when, http.StatusGone, gonePage)
		}
		if s := statusOf(t, st, c.ID); s != claim.StatusWithdrawn {
			t.Fatalf("status %s", s)
		}
	})

	t.Run("superseded after a dispute", func(t *testing.T) {
		c, oldToken := pending(t, st)
		rejected := step(t, st, c, claim.ActionRejected, at)
		resubmitted := step(t, st, rejected, claim.ActionDisputed, at.Add(time.Hour))
		// Being validated again: the old link is gone.
		page(t, h, http.MethodGet, oldToken, at.Add(2*time.Hour), http.StatusGone, gonePage)
		renotified := at.Add(3 * time.Hour)
		newDeadline := deadline.Add(48 * time.Hour)
		_, newToken := notify(t, st, resubmitted, renotified, newDeadline)
		// Pending again, with a new link: the old one stays gone, even before
		// its own deadline; the new one works.
		page(t, h, http.MethodGet, oldToken, renotified.Add(time.Minute), http.StatusGone, gonePage)
		page(t, h, http.MethodPost, oldToken, renotified.Add(time.Minute), http.StatusGone, gonePage)
		if s := statusOf(t, st, c.ID); s != claim.StatusPendingCustomer {
			t.Fatalf("the old link's POST changed the claim: %s", s)
		}
		page(t, h, http.MethodGet, newToken, renotified.Add(time.Minute), http.StatusOK, formPage)
		page(t, h, http.MethodPost, newToken, renotified.Add(2*time.Minute), http.StatusOK, donePage)
		for _, when := range []time.Time{renotified.Add(time.Hour), yearsLater} {
			page(t, h, http.MethodGet, oldToken, when, http.StatusGone, gonePage)
			page(t, h, http.MethodGet, newToken, when, http.StatusOK, donePage)
		}
	})
}
