package service_test

// DynamoDB Local runs one transaction at a time, so it never answers
// TransactionConflict, which DynamoDB does when two transactions touch one
// item at once. These tests run the service on the real store and the real
// DynamoDB Local, and make exactly one TransactWriteItems answer what
// DynamoDB answers then (TransactionCanceledException, reason
// TransactionConflict, nothing written), optionally after a racing writer
// really committed: the only way to prove here what the service does with
// a conflict.

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/service"
	"github.com/cpor-claims/claims/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var admin = service.Caller{Sub: "admin@fabrikam.example", PartnerID: "fabrikam", MPNIDs: []string{"1234567"}, Admin: true}

func draft() service.Fields {
	return service.Fields{
		MPNID: "1234567", Customer: claim.Customer{TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47", Domain: "contoso.onmicrosoft.com"},
		SolutionArea: claim.Microsoft365, Activity: claim.ActivityUsage,
	}
}

func rename(name string) func(service.Fields) (service.Fields, error) {
	return func(f service.Fields) (service.Fields, error) { f.Name = name; return f, nil }
}

// setup returns a service whose store's DynamoDB client is db's wrapper,
// and a plain one on the same table (the racing writer).
func setup(t *testing.T) (*service.Service, *service.Service, *testenv.Conflicting) {
	t.Helper()
	tb := testenv.DynamoDB(t)
	real := tb.DB
	db := &testenv.Conflicting{DB: real}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return service.New(store.New(db, tb.Name), nil, nil, log), service.New(store.New(real, tb.Name), nil, nil, log), db
}

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// A PATCH with If-Match whose transaction met a writer that did not
// commit: the version still matches, so it is retried and succeeds. Not
// a 412.
func TestIfMatchRetriesAConflictWhileTheVersionMatches(t *testing.T) {
	ctx := context.Background()
	s, _, db := setup(t)
	c, _, err := s.Create(ctx, admin, draft(), nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	db.N = 2
	v := int64(1)
	got, err := s.Update(ctx, admin, c.ID, &v, rename("mine"), t0.Add(time.Second))
	if err != nil {
		t.Fatalf("a conflict with an uncommitted writer became %v", err)
	}
	if got.Version != 2 || got.Name != "mine" || db.Refused() != 2 {
		t.Fatalf("version %d name %q after %d conflicts", got.Version, got.Name, db.Refused())
	}
}

// A PATCH with If-Match whose transaction met a writer that committed: the
// version differs now, so it is 412, and the racer's change stands.
func TestIfMatchIsAMismatchOnceTheRacerCommitted(t *testing.T) {
	ctx := context.Background()
	s, plain, db := setup(t)
	c, _, err := s.Create(ctx, admin, draft(), nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	db.N = 1
	db.Before = func() {
		if _, err := plain.Update(ctx, admin, c.ID, nil, rename("racer"), t0.Add(time.Second)); err != nil {
			t.Errorf("racer: %v", err)
		}
	}
	v := int64(1)
	if _, err := s.Update(ctx, admin, c.ID, &v, rename("mine"), t0.Add(2*time.Second)); !errors.Is(err, service.ErrVersionMismatch) {
		t.Fatalf("got %v, want ErrVersionMismatch", err)
	}
	cur, err := plain.Get(ctx, admin, c.ID)
	if err != nil || cur.Version != 2 || cur.Name != "racer" {
		t.Fatalf("claim %+v %v", cur, err)
	}
}

// A create with an Idempotency-Key that met a racing create of the same
// key: retried, it replays the racer's claim when the body matches, and is
// an idempotency conflict when it does not. One claim either way.
func TestCreateRetriesAConflictThenReplays(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		sameBody bool
	}{{"same body", true}, {"other body", false}} {
		t.Run(tc.name, func(t *testing.T) {
			s, plain, db := setup(t)
			var racer *claim.Claim
			db.N = 1
			db.Before = func() {
				var err error
				racer, _, err = plain.Create(ctx, admin, draft(), &service.Idempotency{Key: "k", RequestHash: "h1"}, t0)
				if err != nil {
					t.Errorf("racer: %v", err)
				}
			}
			hash := "h2"
			if tc.sameBody {
				hash = "h1"
			}
			c, replayed, err := s.Create(ctx, admin, draft(), &service.Idempotency{Key: "k", RequestHash: hash}, t0)
			switch {
			case tc.sameBody && (err != nil || !replayed || c.ID != racer.ID):
				t.Fatalf("same body: %v replayed=%v", err, replayed)
			case !tc.sameBody && !errors.Is(err, service.ErrIdempotencyConflict):
				t.Fatalf("other body: %v, want ErrIdempotencyConflict", err)
			}
			page, err := plain.List(ctx, admin, store.ListQuery{Limit: 10})
			if err != nil || len(page.Items) != 1 {
				t.Fatalf("%d claims, %v", len(page.Items), err)
			}
		})
	}
}

// Without a pinned version a conflict is retried too, and the edit lands.
func TestUpdateRetriesAConflict(t *testing.T) {
	ctx := context.Background()
	s, _, db := setup(t)
	c, _, err := s.Create(ctx, admin, draft(), nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	db.N = 3
	got, err := s.Update(ctx, admin, c.ID, nil, rename("mine"), t0.Add(time.Second))
	if err != nil || got.Version != 2 {
		t.Fatalf("%+v %v", got, err)
	}
}
