package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cpor-claims/claims/shared/claim"
)

func (s *Store) historyQuery(id string, start map[string]types.AttributeValue) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :evt)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(claimPK(id)), ":evt": str(eventPrefix),
		},
		ScanIndexForward:  aws.Bool(true),
		ConsistentRead:    aws.Bool(true),
		ExclusiveStartKey: start,
	}
}

// History returns every event of a claim, oldest first, from one Query (a
// history beyond DynamoDB's 1 MB page continues on the next page).
func (s *Store) History(ctx context.Context, id string) ([]claim.Event, error) {
	_, events, err := s.history(ctx, id, s.historyQuery(id, nil))
	return events, err
}

// ClaimHistory returns a claim and every event of it, oldest first, from
// one Query of the claim's whole partition (the events' "EVT#" keys sort
// before "META"), so a caller that must check the claim first (whose
// partner it is) needs no GetItem beside it. ErrNotFound when there is no
// claim.
func (s *Store) ClaimHistory(ctx context.Context, id string) (*claim.Claim, []claim.Event, error) {
	in := s.historyQuery(id, nil)
	in.KeyConditionExpression = aws.String("pk = :pk")
	delete(in.ExpressionAttributeValues, ":evt")
	c, events, err := s.history(ctx, id, in)
	if err == nil && c == nil {
		err = fmt.Errorf("claim %s: %w", id, ErrNotFound)
	}
	return c, events, err
}

// history pages through in, decoding events and the claim's META item.
func (s *Store) history(ctx context.Context, id string, in *dynamodb.QueryInput) (*claim.Claim, []claim.Event, error) {
	events := []claim.Event{}
	var c *claim.Claim
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, nil, fmt.Errorf("history of %s: %w", id, err)
		}
		for _, it := range out.Items {
			if sk, ok := it[attrSK].(*types.AttributeValueMemberS); ok && sk.Value == metaSK {
				if c, err = decodeClaim(it); err != nil {
					return nil, nil, err
				}
				continue
			}
			var ev claim.Event
			if err := unmarshal(it, &ev); err != nil {
				return nil, nil, fmt.Errorf("decode event: %w", err)
			}
			events = append(events, ev)
		}
		if out.LastEvaluatedKey == nil {
			return c, events, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// eventSKs are the sort keys of a claim's history events (its partition's
// EVT# items): the caller names the partition itself (claimPK), so the
// partition every request touches is plain in the code (IAM per key prefix,
// local/samtemplate iam_test.go).
func (s *Store) eventSKs(ctx context.Context, id string) ([]string, error) {
	var sks []string
	var start map[string]types.AttributeValue
	for {
		in := s.historyQuery(id, start)
		in.ProjectionExpression = aws.String("sk")
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("history keys: %w", err)
		}
		for _, it := range out.Items {
			if sk, ok := it[attrSK].(*types.AttributeValueMemberS); ok {
				sks = append(sks, sk.Value)
			}
		}
		if out.LastEvaluatedKey == nil {
			return sks, nil
		}
		start = out.LastEvaluatedKey
	}
}
