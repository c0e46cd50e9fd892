package ending_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/claim/claimtest"
	"github.com/cpor-claims/claims/shared/ending"
	"github.com/cpor-claims/claims/shared/finalize"
	"github.com/cpor-claims/claims/shared/queue"
	"github.com/cpor-claims/claims/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var t0 = time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// mails counts the emails an end sends, per recipient.
type mails struct {
	mu   sync.Mutex
	sent map[string]int
}

func (m *mails) add(to string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sent == nil {
		m.sent = map[string]int{}
	}
	m.sent[to]++
}

func (m *mails) NotifyPartner(_ context.Context, c *claim.Claim) error {
	if claim.NeedsPartnerNotice(c) && (c.Status == claim.StatusEnded || c.PartnerID == "p2") {
		// Ends, and the decisions of the racing competitors (p2); the
		// seeded approvals' own notices are not the race's.
		m.add(c.PartnerContact.Email)
	}
	return nil
}

func (m *mails) NotifyCustomerEnded(_ context.Context, c *claim.Claim) error {
	m.add(c.CustomerContact.Email)
	return nil
}

type nopJobs struct{}

func (nopJobs) Send(context.Context, queue.Job) error { return nil }

func setup(t *testing.T) *store.Store {
	t.Helper()
	tb := testenv.DynamoDB(t)
	return store.New(tb.DB, tb.Name, store.WithDueShards(4))
}

// pending stores a PendingCustomer claim of partner on product whose
// opt-out deadline is deadline, with its own contacts.
func pending(t *testing.T, st *store.Store, partner, tenant string, p claim.ProductRef, deadline time.Time) *claim.Claim {
	t.Helper()
	ctx := context.Background()
	c := claimtest.Complete(partner, tenant, t0.Add(-240*time.Hour))
	c.Products = []claim.ProductRef{p}
	if p.SubscriptionID != "" || p.ID != "teams" {
		c.SolutionArea = claim.BusinessApplications
	}
	c.CustomerContact.Email = "ana." + c.ID + "@contoso.example"
	c.PartnerContact.Email = "pat." + c.ID + "@fabrikam.example"
	if err := st.Create(ctx, c, claim.Event{At: c.CreatedAt, Action: claim.ActionCreated}); err != nil {
		t.Fatal(err)
	}
	at := c.CreatedAt
	for _, a := range []claim.Action{claim.ActionSubmitted, claim.ActionCustomerNotified} {
		at = at.Add(time.Minute)
		next := *c
		ev, err := claim.Apply(&next, a, claim.Actor{Type: claim.ActorSystem, ID: "test"}, at, nil)
		if err != nil {
			t.Fatal(err)
		}
		if next.Status == claim.StatusPendingCustomer {
			next.OptOutDeadline, next.CustomerNotifiedAt = &deadline, &at
		}
		if err := st.Commit(ctx, store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev}); err != nil {
			t.Fatal(err)
		}
		c = &next
	}
	return c
}

// approved stores an Approved claim holding its unit.
func approved(t *testing.T, st *store.Store, partner, tenant string, p claim.ProductRef) *claim.Claim {
	t.Helper()
	c := pending(t, st, partner, tenant, p, t0)
	next := *c
	ev, err := claim.Apply(&next, claim.ActionApproved, claim.Actor{Type: claim.ActorSystem, ID: "test"}, t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.Approve(context.Background(), st, store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev}, nil); err != nil {
		t.Fatal(err)
	}
	return &next
}

func tenant() string { return uuid.NewString() }

// ends counts the history events that ended the claim.
func ends(t *testing.T, st *store.Store, id string) []claim.Action {
	t.Helper()
	evs, err := st.History(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []claim.Action
	for _, e := range evs {
		if e.ToStatus == claim.StatusEnded {
			out = append(out, e.Action)
		}
	}
	return out
}

// race runs a and b at once, in both orders over the rounds.
func race(round int, a, b func()) {
	var wg sync.WaitGroup
	wg.Add(2)
	first, second := a, b
	if round%2 == 1 {
		first, second = b, a
	}
	go func() { defer wg.Done(); first() }()
	go func() { defer wg.Done(); second() }()
	wg.Wait()
}

// endAs ends c through action as its caller would, sending the emails only
// when its end committed; it reports whether it did.
func endAs(t *testing.T, st *store.Store, m *mails, c *claim.Claim, action claim.Action, actor claim.Actor, at time.Time) bool {
	ended, err := ending.End(context.Background(), st, c.ID, action, actor, at, nil, nil)
	var te *claim.TransitionError
	switch {
	case err == nil:
		ending.Notify(context.Background(), st, m, ended, at, quiet)
		return true
	case errors.As(err, &te):
		return false
	default:
		t.Error(err)
		return false
	}
}

// A disassociation racing the customer's decline, and a decline racing a
// subscription's end: exactly one end commits, with one history event and
// one email per recipient, and the unit is free afterwards.
func TestRacingEndsCommitOnce(t *testing.T) {
	st := setup(t)
	partner := claim.Actor{Type: claim.ActorPartner, ID: "user-1"}
	customer := claim.Actor{Type: claim.ActorCustomer, ID: "customer"}
	billing := claim.Actor{Type: claim.ActorSystem, ID: "billing"}
	pairs := []struct {
		name   string
		a, b   claim.Action
		actors [2]claim.Actor
		unit   func() claim.ProductRef
	}{
		{"disassociate vs decline", claim.ActionDisassociated, claim.ActionDeclined, [2]claim.Actor{partner, customer},
			func() claim.ProductRef { return claim.ProductRef{ID: "teams"} }},
		{"decline vs subscription end", claim.ActionDeclined, claim.ActionSubscriptionEnded, [2]claim.Actor{customer, billing},
			func() claim.ProductRef {
				return claim.ProductRef{ID: "dynamics-365-sales", SubscriptionID: uuid.NewString()}
			}},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			wins := map[claim.Action]int{}
			for round := range 8 {
				ten := tenant()
				c := approved(t, st, "p1", ten, p.unit())
				m := &mails{}
				var okA, okB bool
				race(round,
					func() { okA = endAs(t, st, m, c, p.a, p.actors[0], t0.Add(time.Hour)) },
					func() { okB = endAs(t, st, m, c, p.b, p.actors[1], t0.Add(time.Hour)) })
				if okA == okB {
					t.Fatalf("round %d: both or neither committed (%v, %v)", round, okA, okB)
				}
				winner := p.a
				if okB {
					winner = p.b
				}
				wins[winner]++
				if got := ends(t, st, c.ID); len(got) != 1 || got[0] != winner {
					t.Fatalf("round %d: ends in the history %v, winner %s", round, got, winner)
				}
				if m.sent[c.PartnerContact.Email] != 1 {
					t.Fatalf("round %d: %d emails to the partner contact", round, m.sent[c.PartnerContact.Email])
				}
				wantCustomer := 0
				if winner == claim.ActionDisassociated {
					wantCustomer = 1
				}
				if m.sent[c.CustomerContact.Email] != wantCustomer {
					t.Fatalf("round %d: %d emails to the customer, want %d", round, m.sent[c.CustomerContact.Email], wantCustomer)
				}
				units, err := st.Units(context.Background(), ten, c.Products[0].ID)
				if err != nil || len(units) != 0 {
					t.Fatalf("round %d: units still held %+v %v", round, units, err)
				}
			}
			t.Logf("%s: wins %v", p.name, wins)
		})
	}
}

// An end racing a finalize run that would approve a competitor of another
// partner on the same workload: whichever commits first decides; the
// competitor is approved only once the unit is free, and the unit is held
// by at most one partner at every moment (a reader polls it throughout).
func TestEndRacesFinalizeOfACompetitor(t *testing.T) {
	st := setup(t)
	m := &mails{}
	f := &finalize.Finalizer{Store: st, Jobs: nopJobs{}, Mail: m, Clock: time.Now, Log: quiet, PageSize: 50}
	outcomes := map[string]int{}
	for round := range 8 {
		ten := tenant()
		holder := approved(t, st, "p1", ten, claim.ProductRef{ID: "teams"})
		due := t0.Add(time.Duration(round) * time.Hour)
		rival := pending(t, st, "p2", ten, claim.ProductRef{ID: "teams"}, due)
		stop := make(chan struct{})
		var watch sync.WaitGroup
		watch.Add(1)
		var bad error
		go func() { // the unit is held by at most one partner at every moment
			defer watch.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				units, err := st.Units(context.Background(), ten, "teams")
				if err != nil || len(units) > 1 {
					bad = fmt.Errorf("units %+v %v", units, err)
					return
				}
			}
		}()
		race(round,
			// The end and the run share a clock: the end's partner notice is
			// not yet due for the run (it is, only if never marked sent).
			func() {
				endAs(t, st, m, holder, claim.ActionDisassociated, claim.Actor{Type: claim.ActorPartner, ID: "u"}, due)
			},
			func() {
				if _, err := f.Run(context.Background(), due); err != nil {
					t.Error(err)
				}
			})
		close(stop)
		watch.Wait()
		if bad != nil {
			t.Fatalf("round %d: %v", round, bad)
		}
		if got := ends(t, st, holder.ID); len(got) != 1 {
			t.Fatalf("round %d: the holder's ends %v", round, got)
		}
		r, err := st.Get(context.Background(), rival.ID)
		if err != nil {
			t.Fatal(err)
		}
		units, err := st.Units(context.Background(), ten, "teams")
		if err != nil {
			t.Fatal(err)
		}
		switch r.Status {
		case claim.StatusApproved: // the end came first: the rival holds the unit
			if len(units) != 1 || units[0].PartnerID != "p2" || units[0].ClaimID != rival.ID {
				t.Fatalf("round %d: rival approved but units %+v", round, units)
			}
		case claim.StatusRejected: // finalize read the unit still held: conflict, unit free
			if r.StatusReason.Code != claim.ReasonConflict || len(units) != 0 {
				t.Fatalf("round %d: rival %s %+v, units %+v", round, r.Status, r.StatusReason, units)
			}
		default:
			t.Fatalf("round %d: rival %s", round, r.Status)
		}
		outcomes[string(r.Status)]++
		evs, _ := st.History(context.Background(), rival.ID)
		decisions := 0
		for _, e := range evs {
			if e.Action == claim.ActionApproved || e.Action == claim.ActionRejected {
				decisions++
			}
		}
		if decisions != 1 {
			t.Fatalf("round %d: the rival's decisions %+v", round, evs)
		}
		if m.sent[rival.PartnerContact.Email] != 1 || m.sent[holder.PartnerContact.Email] != 1 {
			t.Fatalf("round %d: emails %v", round, m.sent)
		}
	}
	t.Logf("rival outcomes %v", outcomes)
}
