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
//
// A token item lives as long as its claim: it carries no TTL attribute.
// Every link ever emailed must keep answering what became of its claim
// (200 "already opted out", 410 expired, withdrawn, decided or replaced);
// were the item deleted, an old link could only get 404, which API.md keeps
// for links that never existed. The item is small and written once per
// notification, and submitted claims are never deleted, so nothing is
// gained by letting it expire.
type Token struct {
	Hash     string    `json:"hash"`
	ClaimID  string    `json:"claimId"`
	Version  int64     `json:"claimVersion"` // the claim's version once notified
	Deadline time.Time `json:"deadline"`
	// Kind is empty for an opt-out token, TokenDecline for the link that
	// lets the customer end an approved association (v2); each page takes
	// only its own kind.
	Kind string `json:"kind,omitempty"`
}

// TokenDecline is the kind of a decline link's token.
const TokenDecline = "decline"

// Valid reports whether the token still stands for the claim's current
// notification: the claim has not changed since it was notified with it.
func (t *Token) Valid(claimVersion int64) bool { return t.Version == claimVersion }

// TokenOp puts a token item in a claim's transaction, under "no such
// token yet".
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

// GetToken reads a token item by the token's hash; ErrNotFound only when no
// such token was ever issued. Whether it still counts is the caller's to
// judge from its claim (Valid, Deadline): a token is never "not found" for
// being old.
func (s *Store) GetToken(ctx context.Context, hash string) (*Token, error) {
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
	return &t, nil
}
