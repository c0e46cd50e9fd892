package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// IdempotencyRecord remembers a successful create under a partner's
// Idempotency-Key for IdempotencyTTL.
type IdempotencyRecord struct {
	PartnerID   string `json:"partnerId"`
	Key         string `json:"key"`
	RequestHash string `json:"requestHash"`
	ClaimID     string `json:"claimId"`
	Status      int    `json:"status"`
	Expires     int64  `json:"expiresAt"` // TTL, epoch seconds
}

func idempPK(partnerID, key string) string { return idempPrefix + partnerID + "#" + key }

// idempKeyParts refuses a partner id or an Idempotency-Key (partner input)
// containing the key separator: "p#a"+"b" and "p"+"a#b" would name one item.
func idempKeyParts(partnerID, key string) error {
	if err := keyPart("partner id", partnerID); err != nil {
		return err
	}
	return keyPart("Idempotency-Key", key)
}

// IdempotencyOp puts the record in the create's transaction. The key may be
// reused once the previous record has expired (TTL deletion lags).
func (s *Store) IdempotencyOp(r IdempotencyRecord, now time.Time) (Op, error) {
	if err := idempKeyParts(r.PartnerID, r.Key); err != nil {
		return Op{}, err
	}
	item, err := marshal(r)
	if err != nil {
		return Op{}, fmt.Errorf("marshal idempotency record: %w", err)
	}
	item[attrPK] = str(idempPK(r.PartnerID, r.Key))
	item[attrSK] = str(idempSK)
	item[attrType] = str(typeIdemp)
	return Op{
		Item: types.TransactWriteItem{Put: &types.Put{
			Item:                      item,
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR expiresAt <= :now"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(now.Unix())},
		}},
		OnConditionFailed: ErrIdempotencyKeyUsed,
	}, nil
}

// GetIdempotency reads a live record; ErrNotFound when there is none.
func (s *Store) GetIdempotency(ctx context.Context, partnerID, idemKey string, now time.Time) (*IdempotencyRecord, error) {
	if err := idempKeyParts(partnerID, idemKey); err != nil {
		return nil, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(idempPK(partnerID, idemKey), idempSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get idempotency record: %w", err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("idempotency record: %w", ErrNotFound)
	}
	var r IdempotencyRecord
	if err := unmarshal(out.Item, &r); err != nil {
		return nil, fmt.Errorf("decode idempotency record: %w", err)
	}
	if now.Unix() >= r.Expires {
		return nil, fmt.Errorf("idempotency record expired: %w", ErrNotFound)
	}
	return &r, nil
}
