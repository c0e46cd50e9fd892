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

// Due calls fn with every page of claims whose deadline is <= now
// (PendingCustomer past its opt-out deadline, NeedsInfo past its
// respond-by date, Submitted whose validation job is overdue), oldest
// deadline first across all shards: it Queries each shard of the sparse
// due-deadline index (never a Scan), ordered by deadline, and merges them.
// The index projects whole claims, so there is no read per claim. A page
// holds at most pageSize claims. It stops at the first error fn returns, or
// when ctx is done.
func (s *Store) Due(ctx context.Context, now time.Time, pageSize int32, fn func([]*claim.Claim) error) error {
	upper := fmtKeyTime(now) + "#~" // '~' sorts after every id character
	shards := make([]*dueShard, s.shards)
	for i := range shards {
		shards[i] = &dueShard{in: &dynamodb.QueryInput{
			TableName:              &s.table,
			IndexName:              aws.String(IndexByDeadline),
			KeyConditionExpression: aws.String("duepk = :p AND duesk <= :upper"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":p": str(dueShardPK(i)), ":upper": str(upper),
			},
			Limit: aws.Int32(pageSize),
		}, more: true}
	}
	for {
		page := make([]*claim.Claim, 0, pageSize)
		for len(page) < int(pageSize) {
			var next *dueShard
			for _, sh := range shards {
				if err := sh.fill(ctx, s.db); err != nil {
					return err
				}
				if len(sh.items) > 0 && (next == nil || sh.head() < next.head()) {
					next = sh
				}
			}
			if next == nil {
				break
			}
			c, err := decodeClaim(next.items[0])
			if err != nil {
				return err
			}
			next.items = next.items[1:]
			page = append(page, c)
		}
		if len(page) == 0 {
			return nil
		}
		if err := fn(page); err != nil {
			return err
		}
	}
}

// dueShard is one shard's Query of the due index, read page by page.
type dueShard struct {
	in    *dynamodb.QueryInput
	items []map[string]types.AttributeValue
	more  bool
}

// fill reads the shard's next page when its buffer is empty.
func (d *dueShard) fill(ctx context.Context, db DB) error {
	for len(d.items) == 0 && d.more {
		if err := ctx.Err(); err != nil {
			return err
		}
		out, err := db.Query(ctx, d.in)
		if err != nil {
			return fmt.Errorf("due claims: %w", err)
		}
		d.items = out.Items
		d.more = out.LastEvaluatedKey != nil
		d.in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	return nil
}

// head is the due sort key (deadline#id) of the shard's next claim.
func (d *dueShard) head() string {
	if v, ok := d.items[0][attrDueSK].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// MarkRequeued pushes a claim's next due time to now plus the re-queue
// delay, under its status and version: after its validation job was sent
// again (Submitted, or PendingCustomer whose email is not confirmed), or
// before an overdue partner notice is sent (so one run sends it). It
// changes no status and records no event: this is plumbing, not a step of
// the claim.
func (s *Store) MarkRequeued(ctx context.Context, c *claim.Claim, now time.Time) error {
	return s.Defer(ctx, c, now.Add(s.requeueAfter))
}

// Defer moves a claim's due time to until, under its status and version
// (ErrVersionConflict when the claim changed): a decision that failed is
// tried again by a later run instead of holding up this one.
func (s *Store) Defer(ctx context.Context, c *claim.Claim, until time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      key(claimPK(c.ID), metaSK),
		UpdateExpression:         aws.String("SET duesk = :due"),
		ConditionExpression:      aws.String("#st = :st AND #v = :v"),
		ExpressionAttributeNames: map[string]string{"#st": "status", "#v": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":due": str(fmtKeyTime(until) + "#" + c.ID),
			":st":  str(string(c.Status)),
			":v":   num(c.Version),
		},
	})
	if err != nil {
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return fmt.Errorf("claim %s: %w", c.ID, ErrVersionConflict)
		}
		return fmt.Errorf("defer claim %s: %w", c.ID, err)
	}
	return nil
}
