package validation_test

import (
	"testing"

	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/store"
)

// A job whose commit meets a writer that did not commit (the claim still
// at the job's version) is decided, once: the transition's retry, not a
// dropped job that leaves the claim Submitted until the scheduled re-queue.
func TestAConflictWithAnUncommittedWriterIsRetried(t *testing.T) {
	f := newFixture(t)
	c := f.submitted("partner-a", []byte("\x89PNG\r\n\x1a\nnot a pdf"))
	db := &testenv.Conflicting{DB: awsclient.DynamoDB(testenv.AWSConfig(t)), N: 2}
	f.worker.Store = store.New(db, f.store.Table())
	if failed := f.handle(message("m1", c)); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	if got := f.get(c.ID); got.Status != claim.StatusNeedsInfo || got.Version != c.Version+1 || db.Refused() != 2 {
		t.Fatalf("got %s v%d after %d conflicts, want NeedsInfo v%d", got.Status, got.Version, db.Refused(), c.Version+1)
	}
	n := 0
	for _, a := range f.actions(c.ID) {
		if a == claim.ActionMoreInfoRequested {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d more_info_requested events, want 1", n)
	}
}
