package store_test

// Transition's retry policy. DynamoDB Local runs one transaction at a time,
// so it never answers TransactionConflict; testenv.Conflicting makes chosen
// TransactWriteItems answer what DynamoDB answers when two transactions
// meet (TransactionCanceledException, reason TransactionConflict, nothing
// written), optionally after a racing writer really committed.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/store"
)

// conflictingStore returns a store whose client is tb's wrapper and a plain
// one on the same table (the racing writer), with a Draft created.
func conflictingStore(t *testing.T, tb testenv.Table) (*store.Store, *store.Store, *testenv.Conflicting, *claim.Claim) {
	t.Helper()
	db := &testenv.Conflicting{DB: tb.DB}
	s, plain := store.New(db, tb.Name), store.New(tb.DB, tb.Name)
	c := draft("p1", "11111111-1111-1111-1111-111111111111", t0)
	create(t, plain, c)
	return s, plain, db, c
}

// racerCommitsFirst makes db refuse the next commit as a conflict after a
// racer, through plain, really renamed claim c.
func racerCommitsFirst(t *testing.T, db *testenv.Conflicting, plain *store.Store, c *claim.Claim) {
	db.N = 1
	db.Before = func() {
		var racer []int64
		if _, err := store.Transition(context.Background(), plain, c.ID, rename("racer", t0.Add(time.Minute), &racer)); err != nil {
			t.Errorf("racer: %v", err)
		}
	}
}

// rename is an edit of a Draft (a step that keeps the status) that records
// the versions it was decided on.
func rename(name string, at time.Time, seen *[]int64) store.Step {
	return store.Step{
		Action: claim.ActionUpdated, Actor: partnerActor, At: at, Keep: true,
		Check: func(cur *claim.Claim) error {
			*seen = append(*seen, cur.Version)
			return nil
		},
		Edit: func(next *claim.Claim, _ *claim.Event) ([]store.Op, error) {
			next.Name = name
			return nil, nil
		},
	}
}

// A commit that met a writer that did not commit is read again and
// committed: once, with one history event.
func TestTransitionRetriesAnUncommittedConflict(t *testing.T) {
	eachDB(t, func(t *testing.T, tb testenv.Table) {
		ctx := context.Background()
		s, plain, db, c := conflictingStore(t, tb)
		db.N = 3
		var seen []int64
		got, err := store.Transition(ctx, s, c.ID, rename("mine", t0.Add(time.Minute), &seen))
		if err != nil {
			t.Fatalf("a conflict with an uncommitted writer became %v", err)
		}
		if got.Version != 2 || got.Name != "mine" || db.Refused() != 3 || db.Calls() != 4 {
			t.Fatalf("version %d name %q after %d refusals and %d calls", got.Version, got.Name, db.Refused(), db.Calls())
		}
		if len(seen) != 4 || seen[0] != 1 || seen[3] != 1 {
			t.Fatalf("decided on versions %v, want 1 four times", seen)
		}
		cur, err := plain.Get(ctx, c.ID)
		if err != nil || cur.Version != 2 || cur.Name != "mine" {
			t.Fatalf("stored %+v %v", cur, err)
		}
		if got := actions(t, plain, c.ID); len(got) != 2 || got[1] != claim.ActionUpdated {
			t.Fatalf("history %v, want created, updated", got)
		}
	})
}

// A commit that lost to a writer that committed is decided again on the
// claim the racer left: both changes stand, in order.
func TestTransitionDecidesAgainOnTheRacersClaim(t *testing.T) {
	eachDB(t, func(t *testing.T, tb testenv.Table) {
		ctx := context.Background()
		s, plain, db, c := conflictingStore(t, tb)
		racerCommitsFirst(t, db, plain, c)
		var seen []int64
		step := rename("mine", t0.Add(2*time.Minute), &seen)
		step.Detail = map[string]string{"who": "mine"}
		got, err := store.Transition(ctx, s, c.ID, step)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 3 || got.Name != "mine" || len(seen) != 2 || seen[0] != 1 || seen[1] != 2 {
			t.Fatalf("version %d name %q decided on %v, want 3 mine [1 2]", got.Version, got.Name, seen)
		}
		evs, err := plain.History(ctx, c.ID)
		if err != nil || len(evs) != 3 || evs[1].Detail["who"] != "" || evs[2].Detail["who"] != "mine" {
			t.Fatalf("history %+v %v", evs, err)
		}
	})
}

// With AtVersion the step was decided on that version: once a racer
// committed, the step ends with ErrVersionConflict and is not tried again.
func TestTransitionAtVersionDoesNotDecideAgain(t *testing.T) {
	eachDB(t, func(t *testing.T, tb testenv.Table) {
		ctx := context.Background()
		s, plain, db, c := conflictingStore(t, tb)
		racerCommitsFirst(t, db, plain, c)
		var seen []int64
		step := rename("mine", t0.Add(2*time.Minute), &seen)
		step.From, step.AtVersion = c, c.Version
		if _, err := store.Transition(ctx, s, c.ID, step); !errors.Is(err, store.ErrVersionConflict) {
			t.Fatalf("got %v, want ErrVersionConflict", err)
		}
		if db.Calls() != 1 || len(seen) != 1 {
			t.Fatalf("%d commits, decided %d times; want 1 and 1 (From is not read again)", db.Calls(), len(seen))
		}
		cur, err := plain.Get(ctx, c.ID)
		if err != nil || cur.Version != 2 || cur.Name != "racer" {
			t.Fatalf("stored %+v %v, want the racer's", cur, err)
		}
	})
}

// A claim that keeps changing is given up after MaxAttempts commits, with
// ErrVersionConflict and nothing written.
func TestTransitionGivesUpAfterMaxAttempts(t *testing.T) {
	eachDB(t, func(t *testing.T, tb testenv.Table) {
		ctx := context.Background()
		s, plain, db, c := conflictingStore(t, tb)
		db.N = store.MaxAttempts + 3
		var seen []int64
		if _, err := store.Transition(ctx, s, c.ID, rename("mine", t0.Add(time.Minute), &seen)); !errors.Is(err, store.ErrVersionConflict) {
			t.Fatalf("got %v, want ErrVersionConflict", err)
		}
		if db.Calls() != store.MaxAttempts || len(seen) != store.MaxAttempts {
			t.Fatalf("%d commits, decided %d times; want %d", db.Calls(), len(seen), store.MaxAttempts)
		}
		cur, err := plain.Get(ctx, c.ID)
		if err != nil || cur.Version != 1 {
			t.Fatalf("stored %+v %v, want untouched", cur, err)
		}
	})
}

// Refusals from the fresh claim are answers, not races: an unknown claim,
// a step the lifecycle does not have, the caller's own check. None is
// retried, and none writes.
func TestTransitionRefusalsAreNotRetried(t *testing.T) {
	eachDB(t, func(t *testing.T, tb testenv.Table) {
		ctx := context.Background()
		s, _, db, c := conflictingStore(t, tb)
		db.N = store.MaxAttempts // a retry would meet these
		step := store.Step{Action: claim.ActionApproved, Actor: partnerActor, At: t0}
		if _, err := store.Transition(ctx, s, "no-such-claim", step); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown claim: %v, want ErrNotFound", err)
		}
		var te *claim.TransitionError
		if _, err := store.Transition(ctx, s, c.ID, step); !errors.As(err, &te) || te.From != claim.StatusDraft {
			t.Fatalf("approve a Draft: %v, want a TransitionError from Draft", err)
		}
		mine := errors.New("not yours")
		checks := 0
		step = store.Step{Action: claim.ActionSubmitted, Actor: partnerActor, At: t0,
			Check: func(*claim.Claim) error { checks++; return mine }}
		if _, err := store.Transition(ctx, s, c.ID, step); err != mine || checks != 1 {
			t.Fatalf("check: %v after %d checks, want its own error once", err, checks)
		}
		// A version conflict of the caller's own making (AtVersion) is not a
		// race to retry either.
		step = store.Step{Action: claim.ActionSubmitted, Actor: partnerActor, At: t0, AtVersion: c.Version + 1}
		if _, err := store.Transition(ctx, s, c.ID, step); !errors.Is(err, store.ErrVersionConflict) {
			t.Fatalf("at another version: %v, want ErrVersionConflict", err)
		}
		if db.Calls() != 0 {
			t.Fatalf("%d commits tried, want none", db.Calls())
		}
	})
}

// Prepare is the step without the write: the change Transition commits
// (and a group commit packs), under the status and version it was read at.
func TestStepPrepare(t *testing.T) {
	c := draft("p1", "11111111-1111-1111-1111-111111111111", t0)
	step := store.Step{Action: claim.ActionSubmitted, Actor: partnerActor, At: t0.Add(time.Minute),
		Detail: map[string]string{"k": "v"}, Unnotified: true,
		Edit: func(next *claim.Claim, ev *claim.Event) ([]store.Op, error) {
			next.Name = "edited"
			ev.Detail["edited"] = "yes"
			return []store.Op{{OnConditionFailed: store.ErrAssociationChanged}}, nil
		}}
	ch, err := step.Prepare(c)
	if err != nil {
		t.Fatal(err)
	}
	if ch.ExpectStatus != claim.StatusDraft || ch.ExpectVersion != 1 || !ch.Unnotified || len(ch.Ops) != 1 {
		t.Fatalf("change %+v", ch)
	}
	if ch.Claim == c || ch.Claim.Status != claim.StatusSubmitted || ch.Claim.Version != 2 || ch.Claim.Name != "edited" {
		t.Fatalf("claim %+v", ch.Claim)
	}
	if c.Status != claim.StatusDraft || c.Version != 1 || c.Name == "edited" {
		t.Fatalf("the claim read was changed: %+v", c)
	}
	if ch.Event.Action != claim.ActionSubmitted || ch.Event.FromStatus != claim.StatusDraft || ch.Event.ToStatus != claim.StatusSubmitted ||
		ch.Event.Detail["edited"] != "yes" || ch.Event.Detail["k"] != "v" {
		t.Fatalf("event %+v", ch.Event)
	}
	if len(step.Detail) != 1 {
		t.Fatalf("the step's detail was changed: %v", step.Detail)
	}
	marked := *c
	marked.CustomerNotifiedAt = &t0
	if _, err := step.Prepare(&marked); !errors.Is(err, store.ErrVersionConflict) {
		t.Fatalf("unnotified step of a claim marked notified: %v, want ErrVersionConflict", err)
	}
	keep := store.Step{Action: claim.ActionUpdated, Actor: partnerActor, At: t0.Add(time.Minute), Keep: true}
	if ch, err := keep.Prepare(c); err != nil || ch.Claim.Status != claim.StatusDraft || ch.Claim.Version != 2 || ch.Event.ToStatus != claim.StatusDraft {
		t.Fatalf("keep: %+v %v", ch, err)
	}
}
