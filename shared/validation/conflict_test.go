package validation_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/store"
)

// conflicting is the real DynamoDB client, except that the next n
// TransactWriteItems are refused as DynamoDB refuses a transaction that
// meets another one in flight (TransactionConflict, nothing written), which
// DynamoDB Local, running one transaction at a time, never answers.
type conflicting struct {
	store.DB
	mu      sync.Mutex
	n       int
	refused int
}

func (c *conflicting) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.mu.Lock()
	refuse := c.n > 0
	if refuse {
		c.n--
		c.refused++
	}
	c.mu.Unlock()
	if !refuse {
		return c.DB.TransactWriteItems(ctx, in, opts...)
	}
	reasons := make([]types.CancellationReason, len(in.TransactItems))
	for i := range reasons {
		reasons[i].Code = aws.String("None")
	}
	reasons[0].Code = aws.String("TransactionConflict")
	return nil, &types.TransactionCanceledException{
		Message:             aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]"),
		CancellationReasons: reasons,
	}
}

// A job whose commit meets a writer that did not commit (the claim still
// at the job's version) is decided, once: the transition's retry, not a
// dropped job that leaves the claim Submitted until the scheduled re-queue.
func TestAConflictWithAnUncommittedWriterIsRetried(t *testing.T) {
	f := newFixture(t)
	c := f.submitted("partner-a", []byte("\x89PNG\r\n\x1a\nnot a pdf"))
	db := &conflicting{DB: awsclient.DynamoDB(testenv.AWSConfig(t)), n: 2}
	f.worker.Store = store.New(db, f.store.Table())
	if failed := f.handle(message("m1", c)); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	if got := f.get(c.ID); got.Status != claim.StatusNeedsInfo || got.Version != c.Version+1 || db.refused != 2 {
		t.Fatalf("got %s v%d after %d conflicts, want NeedsInfo v%d", got.Status, got.Version, db.refused, c.Version+1)
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
