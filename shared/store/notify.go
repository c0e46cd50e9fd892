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

// MarkNotified records that SES accepted the customer's email for the
// claim's current notification (c as committed by customer_notified): it
// sets customerNotifiedAt and moves the claim's due time to its opt-out
// deadline. Guarded by status, version and "not yet marked", so it happens
// once per notification. ErrVersionConflict when the claim moved on.
func (s *Store) MarkNotified(ctx context.Context, c *claim.Claim, at time.Time) error {
	if c.OptOutDeadline == nil {
		return fmt.Errorf("claim %s has no opt-out deadline", c.ID)
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      key(claimPK(c.ID), metaSK),
		UpdateExpression:         aws.String("SET customerNotifiedAt = :at, duesk = :due"),
		ConditionExpression:      aws.String("#st = :st AND #v = :v AND attribute_not_exists(customerNotifiedAt)"),
		ExpressionAttributeNames: map[string]string{"#st": "status", "#v": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at":  str(at.UTC().Format(time.RFC3339Nano)),
			":due": str(fmtKeyTime(*c.OptOutDeadline) + "#" + c.ID),
			":st":  str(string(claim.StatusPendingCustomer)),
			":v":   num(c.Version),
		},
	})
	if err != nil {
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return fmt.Errorf("claim %s: %w", c.ID, ErrVersionConflict)
		}
		return fmt.Errorf("mark notified: %w", err)
	}
	at = at.UTC()
	c.CustomerNotifiedAt = &at
	return nil
}

// MarkPartnerNotified records that SES accepted the partner contact's email
// about the claim's current status (c as committed): it sets
// partnerNotifiedAt and the claim's due keys as they now stand (gone, or
// its respond-by date). Guarded by the version and "not yet marked".
// ErrVersionConflict when the claim moved on or was marked already.
func (s *Store) MarkPartnerNotified(ctx context.Context, c *claim.Claim, at time.Time) error {
	at = at.UTC()
	if _, err := s.db.UpdateItem(ctx, s.partnerNotifiedUpdate(c, at)); err != nil {
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return fmt.Errorf("claim %s: %w", c.ID, ErrVersionConflict)
		}
		return fmt.Errorf("mark partner notified: %w", err)
	}
	c.PartnerNotifiedAt = &at
	return nil
}

// partnerNotifiedUpdate is the update that marks c's partner notice sent.
func (s *Store) partnerNotifiedUpdate(c *claim.Claim, at time.Time) *dynamodb.UpdateItemInput {
	marked := *c
	marked.PartnerNotifiedAt = &at
	in := &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      key(claimPK(c.ID), metaSK),
		UpdateExpression:         aws.String("SET partnerNotifiedAt = :at REMOVE duepk, duesk"),
		ConditionExpression:      aws.String("#v = :v AND attribute_not_exists(partnerNotifiedAt)"),
		ExpressionAttributeNames: map[string]string{"#v": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": str(at.Format(time.RFC3339Nano)), ":v": num(c.Version),
		},
	}
	if due, ok := s.dueAt(&marked); ok {
		in.UpdateExpression = aws.String("SET partnerNotifiedAt = :at, duepk = :duepk, duesk = :due")
		in.ExpressionAttributeValues[":duepk"] = str(dueShardPK(s.shardOf(c.ID)))
		in.ExpressionAttributeValues[":due"] = str(fmtKeyTime(due) + "#" + c.ID)
	}
	return in
}
