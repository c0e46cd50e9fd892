package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cpor-claims/claims/shared/claim"
)

// Due calls fn for every claim whose deadline is <= now (PendingCustomer
// past its opt-out deadline, NeedsInfo past its respond-by date, Submitted
// whose validation job is overdue), shard by shard, oldest deadline first in
// each shard. It Queries the sparse due-deadline index (never a Scan); the
// index projects whole claims, so there is no read per claim. It stops at
// the first error fn returns, or when ctx is done.
func (s *Store) Due(ctx context.Context, now time.Time, pageSize int32, fn func(*claim.Claim) error) error {
	upper := fmtKeyTime(now) + "#~" // '~' sorts after every id character
	for shard := 0; shard < s.shards; shard++ {
		in := &dynamodb.QueryInput{
			TableName:              &s.table,
			IndexName:              aws.String(IndexByDeadline),
			KeyConditionExpression: aws.String("duepk = :p AND duesk <= :upper"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":p": str(dueShardPK(shard)), ":upper": str(upper),
			},
			Limit: aws.Int32(pageSize),
		}
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			out, err := s.db.Query(ctx, in)
			if err != nil {
				return fmt.Errorf("due claims: %w", err)
			}
			for _, it := range out.Items {
				c, err := decodeClaim(it)
				if err != nil {
					return err
				}
				if err := fn(c); err != nil {
					return err
				}
			}
			if out.LastEvaluatedKey == nil {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	return nil
}

// MarkRequeued pushes a claim's next re-queue time (Submitted, or
// PendingCustomer whose email is not confirmed) to now plus the
// re-queue delay, under its version, after its validation job was sent
// again. It changes no status and records no event: the job is plumbing,
// not a step of the claim.
func (s *Store) MarkRequeued(ctx context.Context, c *claim.Claim, now time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      key(claimPK(c.ID), metaSK),
		UpdateExpression:         aws.String("SET duesk = :due"),
		ConditionExpression:      aws.String("#st = :st AND #v = :v"),
		ExpressionAttributeNames: map[string]string{"#st": "status", "#v": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":due": str(fmtKeyTime(now.Add(s.requeueAfter)) + "#" + c.ID),
			":st":  str(string(c.Status)),
			":v":   num(c.Version),
		},
	})
	if err != nil {
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return fmt.Errorf("claim %s: %w", c.ID, ErrVersionConflict)
		}
		return fmt.Errorf("mark requeued: %w", err)
	}
	return nil
}
