package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
)

// Every change of a claim goes through Transition (docs/design.md "One
// transition primitive, one retry policy"): read the claim, copy it, apply the action from the transition
// table (claim.Apply, or claim.Touch for an action that keeps the status),
// commit the copy with its history event under the status and version read,
// and, when another writer got there first, read it again and start over,
// by one retry policy (Retry).

// Claims is what a transition needs of a store: a consistent read of a
// claim and a conditional commit of its change.
type Claims interface {
	Get(ctx context.Context, id string) (*claim.Claim, error)
	Commit(ctx context.Context, ch Change) error
}

var _ Claims = (*Store)(nil)

// Step is one change of a claim: the action (a step of claim.Transitions,
// or with Keep a change that keeps the status), by whom, when, and what the
// caller decides on the fresh claim.
type Step struct {
	Action claim.Action
	Actor  claim.Actor
	At     time.Time
	Detail map[string]string
	// Keep: the action keeps the status (updated, evidence_added, a re-sent
	// notice): claim.Touch instead of claim.Apply.
	Keep bool

	// From is the claim as the caller already read it (a job's, a page's):
	// the first attempt uses it instead of reading the claim again.
	From *claim.Claim
	// AtVersion, when not zero, is the version the caller decided on (a
	// job's, a notification's, a due page's): a claim read at another
	// version ends the transition with ErrVersionConflict, not retried.
	AtVersion int64
	// Check runs on every fresh read, before the action: ownership, an
	// If-Match, a deadline. Its error ends the transition as is.
	Check func(cur *claim.Claim) error
	// Edit runs on the copy once the action is applied (ev is its history
	// event, which Edit may complete): it sets what the caller decides (a
	// status reason, a deadline, evidence) and returns the other items of
	// the transaction (a token, association units). Its error ends the
	// transition as is.
	Edit func(next *claim.Claim, ev *claim.Event) ([]Op, error)
	// Unnotified: see Change. A claim read with its customer's email marked
	// sent ends the transition with ErrVersionConflict, not retried.
	Unnotified bool
}

// Prepare builds the step's change of cur, without writing anything: the
// step's guards (AtVersion, Unnotified, Check), a copy of cur moved by the
// action, Edit, and the change committing it under cur's status and
// version. Transition commits it; a group commit
// (CommitGroup) packs many.
func (s Step) Prepare(cur *claim.Claim) (Change, error) {
	if s.AtVersion != 0 && cur.Version != s.AtVersion {
		return Change{}, fmt.Errorf("claim %s is at version %d, not %d: %w", cur.ID, cur.Version, s.AtVersion, ErrVersionConflict)
	}
	if s.Unnotified && cur.CustomerNotifiedAt != nil {
		return Change{}, fmt.Errorf("claim %s: the customer's email is marked sent: %w", cur.ID, ErrVersionConflict)
	}
	if s.Check != nil {
		if err := s.Check(cur); err != nil {
			return Change{}, err
		}
	}
	next := *cur
	detail := maps.Clone(s.Detail) // Edit may complete it, once per attempt
	var ev claim.Event
	if s.Keep {
		ev = claim.Touch(&next, s.Action, s.Actor, s.At, detail)
	} else {
		var err error
		if ev, err = claim.Apply(&next, s.Action, s.Actor, s.At, detail); err != nil {
			return Change{}, err
		}
	}
	var ops []Op
	if s.Edit != nil {
		var err error
		if ops, err = s.Edit(&next, &ev); err != nil {
			return Change{}, err
		}
	}
	return Change{Claim: &next, ExpectStatus: cur.Status, ExpectVersion: cur.Version, Event: ev, Ops: ops, Unnotified: s.Unnotified}, nil
}

// Transition changes claim id by step and returns the claim as committed.
// A commit that lost a race (LostRace) is retried from a fresh read by
// Retry's policy; any other error is returned as is: ErrNotFound, a
// *claim.TransitionError when the claim's status has no such step,
// claim.ErrLocked, the errors of Check and Edit, and ErrVersionConflict
// when the claim is not at AtVersion or kept changing.
func Transition(ctx context.Context, st Claims, id string, step Step) (*claim.Claim, error) {
	from := step.From
	var done *claim.Claim
	err := Retry(ctx, func() error {
		cur := from
		from = nil // a retry reads the claim again
		if cur == nil {
			var err error
			if cur, err = st.Get(ctx, id); err != nil {
				return final(err)
			}
		}
		ch, err := step.Prepare(cur)
		if err != nil {
			return final(err)
		}
		if err := st.Commit(ctx, ch); err != nil {
			return err
		}
		done = ch.Claim
		return nil
	})
	if err != nil {
		return nil, err
	}
	return done, nil
}

// MaxAttempts bounds the attempts of one change that keeps losing races.
const MaxAttempts = 8

// LostRace reports whether a commit failed because the claim or its
// association units changed (or were being changed) since they were read:
// read again and decide again.
func LostRace(err error) bool {
	return IsLostRace(err) || errors.Is(err, ErrAssociationChanged)
}

// Retry is the one retry policy of a change: it runs try until it succeeds
// or fails for another reason than a lost race (LostRace), at most
// MaxAttempts times, each retry after a short, growing, random wait so that
// racing writers spread out instead of colliding again. After the last
// attempt it returns the last lost race's error (a units change as
// ErrVersionConflict).
func Retry(ctx context.Context, try func() error) error {
	for attempt := 1; ; attempt++ {
		err := try()
		var f finalError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &f):
			return f.err
		case !LostRace(err):
			return err
		case attempt >= MaxAttempts || ctx.Err() != nil:
			if errors.Is(err, ErrAssociationChanged) && !errors.Is(err, ErrVersionConflict) {
				err = fmt.Errorf("association units kept changing: %w: %w", ErrVersionConflict, err)
			}
			return err
		}
		backoff(ctx, attempt)
	}
}

// finalError is an error of a read or a decision, never retried even when
// it names a conflict (AtVersion).
type finalError struct{ err error }

func (f finalError) Error() string { return f.err.Error() }

func final(err error) error { return finalError{err} }

func backoff(ctx context.Context, attempt int) {
	d := time.Duration(attempt*attempt)*2*time.Millisecond + time.Duration(rand.IntN(10))*time.Millisecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
