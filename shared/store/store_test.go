package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// The store's tests are the contract of the DynamoDB it runs on: each runs
// on DynamoDB Local and on the in-memory DB of the fast tier (local/memdb),
// so the two cannot drift apart; under -short only on the in-memory one.
func eachDB(t *testing.T, test func(t *testing.T, db testenv.Table)) {
	for _, b := range testenv.Backends() {
		t.Run(string(b), func(t *testing.T) { test(t, testenv.NewTable(t, b)) })
	}
}

func newStore(t *testing.T, db testenv.Table, opts ...store.Option) *store.Store {
	t.Helper()
	return store.New(db.DB, db.Name, opts...)
}

var partnerActor = claim.Actor{Type: claim.ActorPartner, ID: "user-1"}

func draft(partner, tenant string, at time.Time, products ...claim.ProductRef) *claim.Claim {
	if len(products) == 0 {
		products = []claim.ProductRef{{ID: "teams"}}
	}
	return &claim.Claim{
		ID: uuid.Must(uuid.NewV7()).String(), Status: claim.StatusDraft, Version: 1,
		Name: "Teams rollout", MPNID: "1234567", PartnerID: partner,
		Customer:     claim.Customer{TenantID: tenant, Domain: "contoso.onmicrosoft.com"},
		SolutionArea: claim.Microsoft365, Activity: claim.ActivityUsage,
		Products: products, Evidence: []claim.Evidence{},
		CreatedAt: at, UpdatedAt: at,
	}
}

func create(t *testing.T, s *store.Store, c *claim.Claim) {
	t.Helper()
	ev := claim.Event{At: c.CreatedAt, Actor: partnerActor, Action: claim.ActionCreated, ToStatus: claim.StatusDraft}
	if err := s.Create(context.Background(), c, ev); err != nil {
		t.Fatalf("create: %v", err)
	}
}

// transition applies action to a copy of c and commits it.
func transition(s *store.Store, c *claim.Claim, action claim.Action, at time.Time, ops ...store.Op) (*claim.Claim, error) {
	next := *c
	ev, err := claim.Apply(&next, action, claim.Actor{Type: claim.ActorSystem, ID: "test"}, at, nil)
	if err != nil {
		return nil, err
	}
	err = s.Commit(context.Background(), store.Change{
		Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev, Ops: ops,
	})
	return &next, err
}

func mustTransition(t *testing.T, s *store.Store, c *claim.Claim, action claim.Action, at time.Time) *claim.Claim {
	t.Helper()
	next, err := transition(s, c, action, at)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	return next
}

func actions(t *testing.T, s *store.Store, id string) []claim.Action {
	t.Helper()
	evs, err := s.History(context.Background(), id)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	out := make([]claim.Action, len(evs))
	for i, e := range evs {
		out[i] = e.Action
	}
	return out
}

func TestCreateGetHistory(t *testing.T) { eachDB(t, testCreateGetHistory) }

func testCreateGetHistory(t *testing.T, db testenv.Table) {
	s := newStore(t, db)
	ctx := context.Background()
	c := draft("p1", "11111111-1111-1111-1111-111111111111", t0)
	c.CustomerContact = &claim.Contact{Name: "Ana <b>", Title: "CIO", Email: "ana@contoso.com"}
	create(t, s, c)

	got, err := s.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != c.Name || got.Customer != c.Customer || got.CustomerContact.Name != "Ana <b>" || !got.CreatedAt.Equal(t0) || got.Version != 1 {
		t.Fatalf("round trip: got %+v", got)
	}
	if err := s.Create(ctx, c, claim.Event{At: t0, Action: claim.ActionCreated}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("second create: %v, want ErrAlreadyExists", err)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing claim: %v", err)
	}

	sub := mustTransition(t, s, got, claim.ActionSubmitted, t0.Add(time.Minute))
	mustTransition(t, s, sub, claim.ActionWithdrawn, t0.Add(2*time.Minute))
	want := []claim.Action{claim.ActionCreated, claim.ActionSubmitted, claim.ActionWithdrawn}
	if got := actions(t, s, c.ID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("history %v, want %v", got, want)
	}
	evs, _ := s.History(ctx, c.ID)
	if evs[1].FromStatus != claim.StatusDraft || evs[1].ToStatus != claim.StatusSubmitted {
		t.Fatalf("submitted event: %+v", evs[1])
	}
	// The claim and its history from one Query: the same events, and the
	// claim as Get reads it.
	cur, evs2, err := s.ClaimHistory(ctx, c.ID)
	if err != nil || cur.Status != claim.StatusWithdrawn || cur.PartnerID != "p1" || fmt.Sprint(evs2) != fmt.Sprint(evs) {
		t.Fatalf("ClaimHistory: %+v %v %v, want the withdrawn claim and %v", cur, evs2, err, evs)
	}
	if _, _, err := s.ClaimHistory(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ClaimHistory of a missing claim: %v", err)
	}
}

func TestCommitErrorsAreTyped(t *testing.T) { eachDB(t, testCommitErrorsAreTyped) }

func testCommitErrorsAreTyped(t *testing.T, db testenv.Table) {
	s := newStore(t, db)
	ctx := context.Background()
	c := draft("p1", "11111111-1111-1111-1111-111111111111", t0)
	create(t, s, c)

	// An edit against a stale version.
	edited := *c
	ev := claim.Touch(&edited, claim.ActionUpdated, partnerActor, t0.Add(time.Second), nil)
	if err := s.Commit(ctx, store.Change{Claim: &edited, ExpectStatus: claim.StatusDraft, ExpectVersion: 7, Event: ev}); !errors.Is(err, store.ErrVersionConflict) {
		t.Fatalf("stale edit: %v, want ErrVersionConflict", err)
	}
	// An edit of a claim that is no longer a Draft.
	sub := mustTransition(t, s, c, claim.ActionSubmitted, t0.Add(time.Minute))
	edited = *sub
	edited.Status = claim.StatusDraft
	ev = claim.Touch(&edited, claim.ActionUpdated, partnerActor, t0.Add(2*time.Minute), nil)
	if err := s.Commit(ctx, store.Change{Claim: &edited, ExpectStatus: claim.StatusDraft, ExpectVersion: sub.Version, Event: ev}); !errors.Is(err, claim.ErrLocked) {
		t.Fatalf("edit after submit: %v, want ErrLocked", err)
	}
	// A transition from a status the claim no longer has.
	if _, err := transition(s, c, claim.ActionSubmitted, t0.Add(3*time.Minute)); !errors.Is(err, claim.ErrInvalidTransition) {
		t.Fatalf("second submit: %v, want ErrInvalidTransition", err)
	}
	var te *claim.TransitionError
	if _, err := transition(s, c, claim.ActionSubmitted, t0.Add(3*time.Minute)); !errors.As(err, &te) || te.From != claim.StatusSubmitted {
		t.Fatalf("transition error names the current status: %v", err)
	}
	// A claim that does not exist.
	ghost := draft("p1", "11111111-1111-1111-1111-111111111111", t0)
	if _, err := transition(s, ghost, claim.ActionSubmitted, t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ghost: %v, want ErrNotFound", err)
	}
	if got := actions(t, s, c.ID); len(got) != 2 {
		t.Fatalf("refused changes left events: %v", got)
	}
}

func TestRacingTransitionHasOneWinner(t *testing.T) { eachDB(t, testRacingTransitionHasOneWinner) }

func testRacingTransitionHasOneWinner(t *testing.T, db testenv.Table) {
	s := newStore(t, db)
	c := draft("p1", "11111111-1111-1111-1111-111111111111", t0)
	create(t, s, c)

	const racers = 20
	var wins, conflicts, other atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := transition(s, c, claim.ActionSubmitted, t0.Add(time.Duration(i)*time.Millisecond))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, store.ErrVersionConflict), errors.Is(err, claim.ErrInvalidTransition):
				conflicts.Add(1)
			default:
				other.Add(1)
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != racers-1 {
		t.Fatalf("wins=%d conflicts=%d other=%d, want exactly one winner", wins.Load(), conflicts.Load(), other.Load())
	}
	got := actions(t, s, c.ID)
	if fmt.Sprint(got) != fmt.Sprint([]claim.Action{claim.ActionCreated, claim.ActionSubmitted}) {
		t.Fatalf("history after race: %v, want exactly one submitted event", got)
	}
	cur, _ := s.Get(context.Background(), c.ID)
	if cur.Status != claim.StatusSubmitted || cur.Version != 2 {
		t.Fatalf("claim after race: %s v%d", cur.Status, cur.Version)
	}
}

func TestFailedTransitionLeavesNothing(t *testing.T) { eachDB(t, testFailedTransitionLeavesNothing) }

func testFailedTransitionLeavesNothing(t *testing.T, db testenv.Table) {
	s := newStore(t, db)
	ctx := context.Background()
	a := draft("p1", "11111111-1111-1111-1111-111111111111", t0)
	b := draft("p1", "11111111-1111-1111-1111-111111111111", t0)
	create(t, s, a)
	create(t, s, b)
	a = mustTransition(t, s, a, claim.ActionSubmitted, t0)
	b = mustTransition(t, s, b, claim.ActionSubmitted, t0)

	_, hash := claim.NewOptOutToken()
	tok := store.Token{Hash: hash, ClaimID: a.ID, Version: a.Version + 1, Deadline: t0.Add(time.Hour)}
	op, err := s.TokenOp(tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := transition(s, a, claim.ActionCustomerNotified, t0.Add(time.Minute), op); err != nil {
		t.Fatalf("notify a: %v", err)
	}
	// The same token item again: its condition fails, so b's transition and
	// event must not be written either.
	tok.ClaimID = b.ID
	op, _ = s.TokenOp(tok)
	if _, err := transition(s, b, claim.ActionCustomerNotified, t0.Add(time.Minute), op); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("notify b with a used token: %v, want ErrAlreadyExists", err)
	}
	cur, _ := s.Get(ctx, b.ID)
	if cur.Status != claim.StatusSubmitted || cur.Version != b.Version {
		t.Fatalf("b changed although its transaction failed: %s v%d", cur.Status, cur.Version)
	}
	if got := actions(t, s, b.ID); len(got) != 2 {
		t.Fatalf("b's failed transition left an event: %v", got)
	}
	got, err := s.GetToken(ctx, hash)
	if err != nil || got.ClaimID != a.ID {
		t.Fatalf("token: %+v %v", got, err)
	}
	// Long past its deadline the token still leads to its claim (the page
	// answers 410, not 404): GetToken takes no time, tokens_test.go.
}

// pending creates c and takes it to PendingCustomer, notified, with deadline.
func pending(t *testing.T, s *store.Store, c *claim.Claim, deadline time.Time) *claim.Claim {
	t.Helper()
	create(t, s, c)
	c = mustTransition(t, s, c, claim.ActionSubmitted, c.UpdatedAt)
	next := *c
	ev, err := claim.Apply(&next, claim.ActionCustomerNotified, claim.Actor{Type: claim.ActorSystem, ID: "validate"}, c.UpdatedAt, nil)
	if err != nil {
		t.Fatal(err)
	}
	next.OptOutDeadline = &deadline
	next.CustomerNotifiedAt = &next.UpdatedAt
	if err := s.Commit(context.Background(), store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev}); err != nil {
		t.Fatal(err)
	}
	return &next
}

func approve(s *store.Store, c *claim.Claim, at time.Time) error {
	next := *c
	ev, err := claim.Apply(&next, claim.ActionApproved, claim.Actor{Type: claim.ActorSystem, ID: "finalize"}, at, nil)
	if err != nil {
		return err
	}
	return testenv.Approve(context.Background(), s, store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev}, nil)
}

func TestTwoPartnersRaceForOneWorkload(t *testing.T) { eachDB(t, testTwoPartnersRaceForOneWorkload) }

func testTwoPartnersRaceForOneWorkload(t *testing.T, db testenv.Table) {
	s := newStore(t, db)
	tenant := "22222222-2222-2222-2222-222222222222"
	for round := range 5 {
		a := pending(t, s, draft("partner-a", tenant, t0), t0.Add(time.Hour))
		b := pending(t, s, draft("partner-b", tenant, t0), t0.Add(time.Hour))
		// Each round uses its own product so earlier rounds do not decide it.
		prod := []string{"teams", "exchange-online", "sharepoint-online", "onedrive", "intune"}[round]
		a.Products = []claim.ProductRef{{ID: prod}}
		b.Products = []claim.ProductRef{{ID: prod}}

		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, c := range []*claim.Claim{a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = approve(s, c, t0.Add(2*time.Hour)) }()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case errors.Is(err, store.ErrAssociationHeld), errors.Is(err, store.ErrVersionConflict):
			default:
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d approvals won (%v), want exactly one", round, won, errs)
		}
		units, err := s.Units(context.Background(), tenant, prod)
		if err != nil || len(units) != 1 {
			t.Fatalf("round %d: units %+v %v, want one", round, units, err)
		}
		winner := a
		if errs[0] != nil {
			winner = b
		}
		if u := units[0]; u.PartnerID != winner.PartnerID || u.ClaimID != winner.ID || u.SubscriptionID != "" {
			t.Fatalf("round %d: unit %+v, winner %s", round, u, winner.PartnerID)
		}
		// The loser, read again, is now held by another partner.
		loser := b
		if winner == b {
			loser = a
		}
		if held, err := s.HeldByOther(context.Background(), loser); err != nil || !held {
			t.Fatalf("round %d: loser sees held=%v err=%v", round, held, err)
		}
		if held, _ := s.HeldByOther(context.Background(), winner); held {
			t.Fatalf("round %d: winner's own association counted as held by another", round)
		}
	}
}

func TestApproveIsAllOrNothingAcrossProducts(t *testing.T) {
	eachDB(t, testApproveIsAllOrNothingAcrossProducts)
}

func testApproveIsAllOrNothingAcrossProducts(t *testing.T, db testenv.Table) {
	s := newStore(t, db)
	tenant := "33333333-3333-3333-3333-333333333333"
	sub1 := "aaaaaaaa-0000-0000-0000-000000000001"
	sub2 := "aaaaaaaa-0000-0000-0000-000000000002"
	biz := func(partner string, products ...claim.ProductRef) *claim.Claim {
		c := draft(partner, tenant, t0, products...)
		c.SolutionArea = claim.BusinessApplications
		return c
	}
	a := pending(t, s, biz("partner-a", claim.ProductRef{ID: "dynamics-365-sales", SubscriptionID: sub1}), t0.Add(time.Hour))
	if err := approve(s, a, t0.Add(2*time.Hour)); err != nil {
		t.Fatalf("approve a: %v", err)
	}
	// b wants another subscription of the same product (free) and sub1 (held).
	b := pending(t, s, biz("partner-b",
		claim.ProductRef{ID: "dynamics-365-sales", SubscriptionID: sub2},
		claim.ProductRef{ID: "dynamics-365-sales", SubscriptionID: sub1}), t0.Add(time.Hour))
	if err := approve(s, b, t0.Add(2*time.Hour)); !errors.Is(err, store.ErrAssociationHeld) {
		t.Fatalf("approve b: %v, want ErrAssociationHeld", err)
	}
	units, _ := s.Units(context.Background(), tenant, "dynamics-365-sales")
	if len(units) != 1 || units[0].SubscriptionID != sub1 || units[0].ClaimID != a.ID {
		t.Fatalf("a refused approval wrote part of its units: %+v", units)
	}
	if cur, _ := s.Get(context.Background(), b.ID); cur.Status != claim.StatusPendingCustomer {
		t.Fatalf("b changed: %s", cur.Status)
	}
	// c wants only sub2: free, so approved next to a's sub1.
	c := pending(t, s, biz("partner-c", claim.ProductRef{ID: "dynamics-365-sales", SubscriptionID: sub2}), t0.Add(time.Hour))
	if err := approve(s, c, t0.Add(2*time.Hour)); err != nil {
		t.Fatalf("approve c: %v", err)
	}
	// d claims the whole product (no subscription id): conflicts with both.
	d := pending(t, s, biz("partner-d", claim.ProductRef{ID: "dynamics-365-sales"}), t0.Add(time.Hour))
	if err := approve(s, d, t0.Add(2*time.Hour)); !errors.Is(err, store.ErrAssociationHeld) {
		t.Fatalf("approve d: %v, want ErrAssociationHeld", err)
	}
}

func TestListNewestFirstWithCursorAndFilters(t *testing.T) {
	eachDB(t, testListNewestFirstWithCursorAndFilters)
}

func testListNewestFirstWithCursorAndFilters(t *testing.T, db testenv.Table) {
	s := newStore(t, db)
	ctx := context.Background()
	tenantA := "44444444-4444-4444-4444-444444444444"
	tenantB := "55555555-5555-5555-5555-555555555555"
	var ids []string
	for i := range 7 {
		tenant := tenantA
		if i%2 == 1 {
			tenant = tenantB
		}
		c := draft("lister", tenant, t0.Add(time.Duration(i)*time.Minute))
		create(t, s, c)
		if i == 6 {
			mustTransition(t, s, c, claim.ActionSubmitted, c.CreatedAt)
		}
		ids = append(ids, c.ID)
	}
	create(t, s, draft("someone-else", tenantA, t0))

	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		p, err := s.List(ctx, "lister", store.ListQuery{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Items {
			seen = append(seen, c.ID)
		}
		if p.Next == "" || pages > 5 {
			break
		}
		cursor = p.Next
	}
	if len(seen) != 7 {
		t.Fatalf("listed %d claims, want 7 (the other partner's excluded)", len(seen))
	}
	for i := range seen {
		if seen[i] != ids[6-i] {
			t.Fatalf("order: got %v, want newest first", seen)
		}
	}
	p, err := s.List(ctx, "lister", store.ListQuery{Limit: 10, TenantID: tenantB})
	if err != nil || len(p.Items) != 3 {
		t.Fatalf("tenant filter: %d items, %v", len(p.Items), err)
	}
	p, err = s.List(ctx, "lister", store.ListQuery{Limit: 2, Status: claim.StatusSubmitted})
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != ids[6] {
		t.Fatalf("status filter: %+v, %v", p.Items, err)
	}
	p, err = s.List(ctx, "lister", store.ListQuery{Limit: 2, Status: claim.StatusDraft, TenantID: tenantA})
	if err != nil || len(p.Items) != 2 || p.Next == "" {
		t.Fatalf("filtered paging: %d items next=%q %v", len(p.Items), p.Next, err)
	}
	scope := store.CursorScope("lister", store.ListQuery{})
	flipped := []byte(p.Next)
	flipped[len(flipped)/2] ^= 0x01
	for _, bad := range []string{"garbage", "eyJjIjoieCJ9", store.EncodeCursor(scope, "2026-13-01T00:00:00.000000000Z", ids[0]),
		store.EncodeCursor(scope, "2026-11-24T10:00:00.000000000Z", "../x"), string(flipped)} {
		if _, err := s.List(ctx, "lister", store.ListQuery{Limit: 3, Cursor: bad}); !errors.Is(err, store.ErrInvalidCursor) {
			t.Fatalf("cursor %q: %v, want ErrInvalidCursor", bad, err)
		}
	}
	// A cursor belongs to its listing: not to another partner's, nor to
	// the same partner's with other filters.
	if _, err := s.List(ctx, "someone-else", store.ListQuery{Limit: 2, Status: claim.StatusDraft, TenantID: tenantA, Cursor: p.Next}); !errors.Is(err, store.ErrInvalidCursor) {
		t.Fatalf("another partner's cursor: %v", err)
	}
	if _, err := s.List(ctx, "lister", store.ListQuery{Limit: 2, Status: claim.StatusDraft, Cursor: p.Next}); !errors.Is(err, store.ErrInvalidCursor) {
		t.Fatalf("a cursor of other filters: %v", err)
	}
	if next, err := s.List(ctx, "lister", store.ListQuery{Limit: 2, Status: claim.StatusDraft, TenantID: tenantA, Cursor: p.Next}); err != nil || len(next.Items) == 0 {
		t.Fatalf("the cursor in its own listing: %+v %v", next, err)
	}
}

func TestIdempotencyRecord(t *testing.T) { eachDB(t, testIdempotencyRecord) }

func testIdempotencyRecord(t *testing.T, db testenv.Table) {
	s := newStore(t, db)
	ctx := context.Background()
	rec := store.IdempotencyRecord{PartnerID: "p1", Key: "k-1", RequestHash: "h1", Status: 201, Expires: t0.Add(store.IdempotencyTTL).Unix()}
	first := draft("p1", "11111111-1111-1111-1111-111111111111", t0)
	rec.ClaimID = first.ID
	op, _ := s.IdempotencyOp(rec, t0)
	if err := s.Create(ctx, first, claim.Event{At: t0, Action: claim.ActionCreated}, op); err != nil {
		t.Fatal(err)
	}
	second := draft("p1", "11111111-1111-1111-1111-111111111111", t0)
	rec.ClaimID = second.ID
	op, _ = s.IdempotencyOp(rec, t0.Add(time.Hour))
	if err := s.Create(ctx, second, claim.Event{At: t0, Action: claim.ActionCreated}, op); !errors.Is(err, store.ErrIdempotencyKeyUsed) {
		t.Fatalf("reused key: %v", err)
	}
	if _, err := s.Get(ctx, second.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused create wrote its claim: %v", err)
	}
	got, err := s.GetIdempotency(ctx, "p1", "k-1", t0.Add(time.Hour))
	if err != nil || got.ClaimID != first.ID || got.RequestHash != "h1" {
		t.Fatalf("record: %+v %v", got, err)
	}
	if _, err := s.GetIdempotency(ctx, "p2", "k-1", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("keys are per partner: %v", err)
	}
	// Past its 24 hours the key is free again.
	later := t0.Add(25 * time.Hour)
	op, _ = s.IdempotencyOp(rec, later)
	if err := s.Create(ctx, second, claim.Event{At: later, Action: claim.ActionCreated}, op); err != nil {
		t.Fatalf("expired key reuse: %v", err)
	}
}

func TestDueIndexIsSparseAndSharded(t *testing.T) { eachDB(t, testDueIndexIsSparseAndSharded) }

func testDueIndexIsSparseAndSharded(t *testing.T, db testenv.Table) {
	s := newStore(t, db, store.WithDueShards(3), store.WithRequeueAfter(10*time.Minute))
	ctx := context.Background()
	tenant := "66666666-6666-6666-6666-666666666666"
	want := map[string]bool{}
	dueAt := map[string]time.Time{}
	for i := range 9 {
		c := draft("p1", tenant, t0)
		deadline := t0.Add(time.Duration(i-4) * time.Hour) // 5 due (i<=4), 4 not yet
		p := pending(t, s, c, deadline)
		if i <= 4 {
			want[p.ID] = true
			dueAt[p.ID] = deadline
		}
	}
	create(t, s, draft("p1", tenant, t0)) // a Draft: never in the index
	sub := draft("p1", tenant, t0.Add(-time.Hour))
	create(t, s, sub)
	subbed := mustTransition(t, s, sub, claim.ActionSubmitted, t0.Add(-time.Hour)) // job overdue at t0-50m
	want[subbed.ID] = true
	dueAt[subbed.ID] = subbed.UpdatedAt.Add(10 * time.Minute)

	got := map[string]bool{}
	var order []time.Time
	collect := func(page []*claim.Claim) error {
		if len(page) > 2 {
			t.Errorf("a page of %d claims, want at most 2", len(page))
		}
		for _, c := range page {
			got[c.ID] = true
			order = append(order, dueAt[c.ID])
		}
		return nil
	}
	if err := s.Due(ctx, t0, 2, collect); err != nil {
		t.Fatal(err)
	}
	// Oldest deadline first across the shards (merged, not shard by shard).
	for i := 1; i < len(order); i++ {
		if order[i].Before(order[i-1]) {
			t.Fatalf("due claims out of deadline order: %v", order)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("due: got %d %v, want %d %v", len(got), got, len(want), want)
	}
	if err := s.MarkRequeued(ctx, subbed, t0); err != nil {
		t.Fatal(err)
	}
	got = map[string]bool{}
	_ = s.Due(ctx, t0, 2, collect)
	if got[subbed.ID] || len(got) != 5 {
		t.Fatalf("a re-queued claim is due again at once: %v", got)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.Due(ctx, t0, 2, func([]*claim.Claim) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("Due did not stop at fn's error: n=%d err=%v", n, err)
	}
}

func TestDeleteDraft(t *testing.T) { eachDB(t, testDeleteDraft) }

func testDeleteDraft(t *testing.T, db testenv.Table) {
	s := newStore(t, db)
	ctx := context.Background()
	c := draft("p1", "11111111-1111-1111-1111-111111111111", t0)
	create(t, s, c)
	if err := s.DeleteDraft(ctx, c.ID, 5); !errors.Is(err, store.ErrVersionConflict) {
		t.Fatalf("stale delete: %v", err)
	}
	if err := s.DeleteDraft(ctx, c.ID, c.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted claim still there: %v", err)
	}
	if got := actions(t, s, c.ID); len(got) != 0 {
		t.Fatalf("deleted claim's history remains: %v", got)
	}
	d := draft("p1", "11111111-1111-1111-1111-111111111111", t0)
	create(t, s, d)
	d = mustTransition(t, s, d, claim.ActionSubmitted, t0)
	if err := s.DeleteDraft(ctx, d.ID, d.Version); !errors.Is(err, claim.ErrLocked) {
		t.Fatalf("delete after submit: %v, want ErrLocked", err)
	}
}

// Association items read for a whole page (AssociationsOf) decide the
// first attempt of each approval; one that changed since fails its version
// condition and is read again, so a stale read never approves a conflict.
func TestApproveWithItemsReadForAPage(t *testing.T) { eachDB(t, testApproveWithItemsReadForAPage) }

func testApproveWithItemsReadForAPage(t *testing.T, db testenv.Table) {
	s := newStore(t, db)
	ctx := context.Background()
	tenant := "77777777-7777-7777-7777-777777777777"
	a := pending(t, s, draft("partner-a", tenant, t0, claim.ProductRef{ID: "teams"}, claim.ProductRef{ID: "intune"}), t0.Add(time.Hour))
	b := pending(t, s, draft("partner-b", tenant, t0), t0.Add(time.Hour))
	free := pending(t, s, draft("partner-b", "88888888-8888-8888-8888-888888888888", t0), t0.Add(time.Hour))
	known, err := s.AssociationsOf(ctx, []*claim.Claim{a, b, free})
	if err != nil {
		t.Fatal(err)
	}
	if held, err := s.HeldByOther(ctx, b); err != nil || held {
		t.Fatalf("before any approval: held=%v %v, want free", held, err)
	}
	change := func(c *claim.Claim) store.Change {
		next := *c
		ev, err := claim.Apply(&next, claim.ActionApproved, partnerActor, t0.Add(2*time.Hour), nil)
		if err != nil {
			t.Fatal(err)
		}
		return store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev}
	}
	if err := testenv.Approve(ctx, s, change(a), known); err != nil {
		t.Fatalf("approve a: %v", err)
	}
	// b's items as read (free) are stale now: a holds teams.
	if err := testenv.Approve(ctx, s, change(b), known); !errors.Is(err, store.ErrAssociationHeld) {
		t.Fatalf("approve b with stale items: %v, want ErrAssociationHeld", err)
	}
	if err := testenv.Approve(ctx, s, change(free), known); err != nil {
		t.Fatalf("approve an unrelated claim: %v", err)
	}
	for _, prod := range []string{"teams", "intune"} {
		units, err := s.Units(ctx, tenant, prod)
		if err != nil || len(units) != 1 || units[0].ClaimID != a.ID {
			t.Fatalf("after: %s %+v %v, want held by a", prod, units, err)
		}
	}
}

// A whole-product claim and per-subscription claims of other partners,
// approved at the same instant, never both win: every approval in a
// partition commits under the version of its WORKLOAD item.
func TestWholeProductAndSubscriptionRace(t *testing.T) {
	eachDB(t, testWholeProductAndSubscriptionRace)
}

func testWholeProductAndSubscriptionRace(t *testing.T, db testenv.Table) {
	s := newStore(t, db)
	ctx := context.Background()
	biz := func(partner, tenant string, products ...claim.ProductRef) *claim.Claim {
		c := draft(partner, tenant, t0, products...)
		c.SolutionArea = claim.BusinessApplications
		return c
	}
	wins := map[string]int{}
	for round := range 8 {
		tenant := fmt.Sprintf("66666666-6666-4666-8666-%012d", round)
		const prod = "dynamics-365-sales"
		whole := pending(t, s, biz("partner-whole", tenant, claim.ProductRef{ID: prod}), t0.Add(time.Hour))
		subA := pending(t, s, biz("partner-sub-a", tenant, claim.ProductRef{ID: prod, SubscriptionID: "s1"}), t0.Add(time.Hour))
		subB := pending(t, s, biz("partner-sub-b", tenant, claim.ProductRef{ID: prod, SubscriptionID: "s2"}), t0.Add(time.Hour))
		claims := []*claim.Claim{whole, subA, subB}
		errs := make([]error, len(claims))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, c := range claims {
			wg.Add(1)
			go func() { defer wg.Done(); <-start; errs[i] = approve(s, c, t0.Add(2*time.Hour)) }()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil && !errors.Is(err, store.ErrAssociationHeld) && !errors.Is(err, store.ErrVersionConflict) {
				t.Fatalf("round %d: claim %d: unexpected error %v", round, i, err)
			}
		}
		units, err := s.Units(ctx, tenant, prod)
		if err != nil {
			t.Fatal(err)
		}
		won := map[string]bool{}
		for i, c := range claims {
			if errs[i] == nil {
				won[c.PartnerID] = true
			}
		}
		switch {
		case won["partner-whole"] && len(won) == 1:
			if len(units) != 1 || units[0].SubscriptionID != "" || units[0].ClaimID != whole.ID {
				t.Fatalf("round %d: whole product won, units %+v", round, units)
			}
			wins["whole"]++
		case !won["partner-whole"] && len(won) > 0:
			if len(units) != len(won) {
				t.Fatalf("round %d: %v won, units %+v", round, won, units)
			}
			for _, u := range units {
				if u.SubscriptionID == "" || !won[u.PartnerID] {
					t.Fatalf("round %d: %v won, unit %+v", round, won, u)
				}
			}
			wins["subscriptions"]++
		default:
			t.Fatalf("round %d: winners %v (errors %v), units %+v: a whole product and a subscription of another partner both approved, or nobody", round, won, errs, units)
		}
		// Whoever lost now sees the unit held.
		for i, c := range claims {
			if errs[i] != nil {
				if held, err := s.HeldByOther(ctx, c); err != nil || !held {
					t.Fatalf("round %d: loser %s sees held=%v %v", round, c.PartnerID, held, err)
				}
			}
		}
	}
	t.Logf("outcomes over the rounds: %v", wins)
}

// A unit item carries the fields of DESIGN.md "Association items (v2)",
// the ByHolder keys, and nothing that grows with the number of claims; the
// ending transaction's EndOps release the units so another partner can
// take them.
func TestUnitItemsAndEnding(t *testing.T) { eachDB(t, testUnitItemsAndEnding) }

func testUnitItemsAndEnding(t *testing.T, db testenv.Table) {
	s := newStore(t, db)
	ctx := context.Background()
	tenant := "99999999-9999-4999-8999-999999999999"
	c := draft("partner-a", tenant, t0, claim.ProductRef{ID: "dynamics-365-sales", SubscriptionID: "S1"},
		claim.ProductRef{ID: "dynamics-365-sales", SubscriptionID: "s2"}, claim.ProductRef{ID: "power-bi-pro"})
	c.SolutionArea = claim.BusinessApplications
	c.Customer.Name = "Contoso"
	c = pending(t, s, c, t0.Add(time.Hour))
	if err := approve(s, c, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	units, err := s.Units(ctx, tenant, "dynamics-365-sales")
	if err != nil || len(units) != 2 {
		t.Fatalf("units %+v %v", units, err)
	}
	want := store.Unit{TenantID: tenant, ProductID: "dynamics-365-sales", SubscriptionID: "s1", PartnerID: "partner-a",
		ClaimID: c.ID, MPNID: c.MPNID, Domain: c.Customer.Domain, CustomerName: "Contoso", Since: t0.Add(2 * time.Hour)}
	if !units[0].Since.Equal(want.Since) {
		t.Fatalf("since %v, want %v", units[0].Since, want.Since)
	}
	units[0].Since = want.Since
	if units[0] != want {
		t.Fatalf("unit\n got %+v\nwant %+v", units[0], want)
	}
	raw, err := db.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table()),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "ASSOC#" + tenant + "#dynamics-365-sales"},
			"sk": &types.AttributeValueMemberS{Value: "SUB#s1"},
		},
	})
	if err != nil || raw.Item == nil {
		t.Fatalf("raw unit: %v", err)
	}
	for name, v := range map[string]string{"holderpk": "HOLDER#partner-a", "holdersk": tenant + "#dynamics-365-sales#SUB#s1", "since": "2026-11-24T12:00:00Z"} {
		if got, _ := raw.Item[name].(*types.AttributeValueMemberS); got == nil || got.Value != v {
			t.Errorf("%s = %v, want %s", name, raw.Item[name], v)
		}
	}
	// What partner-a holds, through the ByHolder index.
	q, err := db.DB.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.Table()), IndexName: aws.String(store.IndexByHolder),
		KeyConditionExpression:    aws.String("holderpk = :h AND begins_with(holdersk, :t)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": &types.AttributeValueMemberS{Value: "HOLDER#partner-a"}, ":t": &types.AttributeValueMemberS{Value: tenant}},
	})
	if err != nil || len(q.Items) != 3 {
		t.Fatalf("ByHolder: %d items, %v, want 3", len(q.Items), err)
	}

	// Another partner's whole product is refused, then the claim's units end
	// in an ending transaction (here: a plain touch of the claim with EndOps).
	other := draft("partner-b", tenant, t0, claim.ProductRef{ID: "dynamics-365-sales"})
	other.SolutionArea = claim.BusinessApplications
	other = pending(t, s, other, t0.Add(time.Hour))
	if err := approve(s, other, t0.Add(3*time.Hour)); !errors.Is(err, store.ErrAssociationHeld) {
		t.Fatalf("whole product over partner-a's subscriptions: %v", err)
	}
	cur, err := s.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	held, err := s.HeldUnits(ctx, cur)
	if err != nil || len(held) != 3 {
		t.Fatalf("held units %+v %v, want 3", held, err)
	}
	next := *cur
	ev := claim.Touch(&next, claim.ActionUpdated, partnerActor, t0.Add(4*time.Hour), nil)
	if err := s.Commit(ctx, store.Change{Claim: &next, ExpectStatus: cur.Status, ExpectVersion: cur.Version, Event: ev, Ops: store.EndOps(held)}); err != nil {
		t.Fatalf("end: %v", err)
	}
	for _, prod := range []string{"dynamics-365-sales", "power-bi-pro"} {
		if units, err := s.Units(ctx, tenant, prod); err != nil || len(units) != 0 {
			t.Fatalf("%s after the end: %+v %v", prod, units, err)
		}
	}
	if err := approve(s, other, t0.Add(5*time.Hour)); err != nil {
		t.Fatalf("whole product after the end: %v", err)
	}
	// Ending units that are no longer the claim's fails the transaction.
	again := next
	ev = claim.Touch(&again, claim.ActionUpdated, partnerActor, t0.Add(6*time.Hour), nil)
	if err := s.Commit(ctx, store.Change{Claim: &again, ExpectStatus: next.Status, ExpectVersion: next.Version, Event: ev, Ops: store.EndOps(held)}); !errors.Is(err, store.ErrVersionConflict) {
		t.Fatalf("ending units that are gone: %v, want ErrVersionConflict", err)
	}
}
