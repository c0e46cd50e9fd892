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
	events := []claim.Event{}
	var start map[string]types.AttributeValue
	for {
		out, err := s.db.Query(ctx, s.historyQuery(id, start))
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		for _, it := range out.Items {
			var ev claim.Event
			if err := unmarshal(it, &ev); err != nil {
				return nil, fmt.Errorf("decode event: %w", err)
			}
			events = append(events, ev)
		}
		if out.LastEvaluatedKey == nil {
			return events, nil
		}
		start = out.LastEvaluatedKey
	}
}

func (s *Store) eventKeys(ctx context.Context, id string) ([]map[string]types.AttributeValue, error) {
	var keys []map[string]types.AttributeValue
	var start map[string]types.AttributeValue
	for {
		in := s.historyQuery(id, start)
		in.ProjectionExpression = aws.String("pk, sk")
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("history keys: %w", err)
		}
		for _, it := range out.Items {
			keys = append(keys, map[string]types.AttributeValue{attrPK: it[attrPK], attrSK: it[attrSK]})
		}
		if out.LastEvaluatedKey == nil {
			return keys, nil
		}
		start = out.LastEvaluatedKey
	}
}
