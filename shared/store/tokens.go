package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Token is an opt-out token's item, keyed by the SHA-256 of the token (the
// token itself is never stored).
type Token struct {
	Hash     string    `json:"hash"`
	ClaimID  string    `json:"claimId"`
	Version  int64     `json:"claimVersion"` // the claim's version once notified
	Deadline time.Time `json:"deadline"`
	Expires  int64     `json:"expiresAt"` // TTL, epoch seconds
}

// Valid reports whether the token still stands for the claim's current
// notification: the claim has not changed since it was notified with it.
func (t *Token) Valid(claimVersion int64) bool { return t.Version == claimVersion }

// TokenOp puts a token item in a claim's transaction. It expires (TTL) a
// while after the deadline, so that an outdated link still finds its claim
// and shows that it has passed.
func (s *Store) TokenOp(t Token) (Op, error) {
	item, err := marshal(t)
	if err != nil {
		return Op{}, fmt.Errorf("marshal token: %w", err)
	}
	item[attrPK] = str(tokenPrefix + t.Hash)
	item[attrSK] = str(tokenSK)
	item[attrType] = str(typeToken)
	return Op{
		Item: types.TransactWriteItem{Put: &types.Put{
			Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}},
		OnConditionFailed: fmt.Errorf("token: %w", ErrAlreadyExists),
	}, nil
}

// GetToken reads a token item by the token's hash; ErrNotFound when unknown
// or past its expiry (TTL deletion lags).
func (s *Store) GetToken(ctx context.Context, hash string, now time.Time) (*Token, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(tokenPrefix+hash, tokenSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get token: %w", err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("token: %w", ErrNotFound)
	}
	var t Token
	if err := unmarshal(out.Item, &t); err != nil {
		return nil, fmt.Errorf("decode token: %w", err)
	}
	if t.Expires > 0 && now.Unix() >= t.Expires {
		return nil, fmt.Errorf("token expired: %w", ErrNotFound)
	}
	return &t, nil
}
