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
