package optout_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/claim/claimtest"
	"github.com/cpor-claims/claims/shared/optout"
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
	res := testenv.Provision(t)
	st := store.New(awsclient.DynamoDB(testenv.AWSConfig(t)), res.TableName)
	mails := &partnerMails{}
	loc, _ := time.LoadLocation("America/Los_Angeles")
	h := &optout.Handler{Store: st, Mail: mails, Location: loc, Clock: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return st, h, mails
}

// pending stores a claim the customer was notified of and returns the token.
func pending(t *testing.T, st *store.Store) (*claim.Claim, string) {
	t.Helper()
	ctx := context.Background()
	c := claimtest.Complete("p1", "40000000-0000-4000-8000-000000000001", notified.Add(-48*time.Hour))
	if err := st.Create(ctx, c, claim.Event{At: c.CreatedAt, Action: claim.ActionCreated}); err != nil {
		t.Fatal(err)
	}
	sys := claim.Actor{Type: claim.ActorSystem, ID: "t"}
	next := *c
	ev, _ := claim.Apply(&next, claim.ActionSubmitted, sys, notified.Add(-time.Hour), nil)
	if err := st.Commit(ctx, store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev}); err != nil {
		t.Fatal(err)
	}
	sub := next
	notice := sub
	ev, _ = claim.Apply(&notice, claim.ActionCustomerNotified, sys, notified, nil)
	dl := deadline
	notice.OptOutDeadline, notice.CustomerNotifiedAt = &dl, &notified
	token, hash := claim.NewOptOutToken()
	op, _ := st.TokenOp(store.Token{Hash: hash, ClaimID: c.ID, Version: notice.Version, Deadline: dl, Expires: dl.Add(720 * time.Hour).Unix()})
	if err := st.Commit(ctx, store.Change{Claim: &notice, ExpectStatus: sub.Status, ExpectVersion: sub.Version, Event: ev, Ops: []store.Op{op}}); err != nil {
		t.Fatal(err)
	}
	return &notice, token
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
		for _, want := range []string{"Fabrikam Partners &lt;Ltd&gt;", "Microsoft Teams", c.Customer.TenantID, "Contoso &lt;script&gt;", "Thursday 3 December 2026 00:00 PST"} {
			if !strings.Contains(resp.Body, want) {
				t.Fatalf("page lacks %q", want)
			}
		}
		for h, want := range map[string]string{"X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer", "Content-Security-Policy": "default-src 'none'"} {
			if !strings.Contains(resp.Headers[h], want) {
				t.Fatalf("header %s = %q", h, resp.Headers[h])
			}
		}
	}
	if s := statusOf(t, st, c.ID); s != claim.StatusPendingCustomer {
		t.Fatalf("GET changed the claim: %s", s)
	}
	resp := call(t, h, http.MethodPost, token, before)
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `id="confirmation"`) {
		t.Fatalf("POST: %d\n%s", resp.StatusCode, resp.Body)
	}
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
