package testenv

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cpor-claims/claims/shared/store"
)

// Conflicting is a table's client (DB) that refuses its next N
// TransactWriteItems as DynamoDB refuses a transaction that meets another
// one in flight: TransactionCanceledException, reason TransactionConflict,
// nothing written. Neither DynamoDB Local, which runs one transaction at a
// time, nor memdb ever answers that, so this is how a test proves what a
// writer does with a conflict. Before, when set, runs first (the racing
// writer, which may really commit). Calls counts every TransactWriteItems,
// Refused those refused. Set N and Before before the writer runs.
type Conflicting struct {
	store.DB
	N       int
	Before  func()
	mu      sync.Mutex
	refused int
	calls   int
}

// TransactWriteItems refuses the call while N is not spent, else passes it on.
func (c *Conflicting) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.mu.Lock()
	c.calls++
	refuse := c.N > 0
	if refuse {
		c.N--
		c.refused++
	}
	before := c.Before
	c.mu.Unlock()
	if !refuse {
		return c.DB.TransactWriteItems(ctx, in, opts...)
	}
	if before != nil {
		before()
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

// Refused is how many TransactWriteItems were refused so far.
func (c *Conflicting) Refused() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refused
}

// Calls is how many TransactWriteItems were made so far, refused or not.
func (c *Conflicting) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}
