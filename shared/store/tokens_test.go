package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/store"
)

// A token item must outlive any TTL: it is written without the table's TTL
// attribute (expiresAt, template.yaml), even when a caller still passes an
// expiry, so DynamoDB never deletes it and an old link keeps finding its
// claim. Unknown hashes stay ErrNotFound.
func TestTokenItemHasNoTTL(t *testing.T) { eachDB(t, testTokenItemHasNoTTL) }

func testTokenItemHasNoTTL(t *testing.T, table testenv.Table) {
	db := table.DB
	s := store.New(db, table.Name)
	ctx := context.Background()

	c := draft("p1", "22222222-2222-4222-8222-222222222222", t0)
	create(t, s, c)
	c = mustTransition(t, s, c, claim.ActionSubmitted, t0)
	token, hash := claim.NewOptOutToken()
	deadline := t0.Add(7 * 24 * time.Hour)
	op, err := s.TokenOp(store.Token{Hash: hash, ClaimID: c.ID, Version: c.Version + 1, Deadline: deadline})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := transition(s, c, claim.ActionCustomerNotified, t0.Add(time.Minute), op); err != nil {
		t.Fatal(err)
	}

	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table.Name, Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "TOKEN#" + hash}, "sk": &types.AttributeValueMemberS{Value: "TOKEN"},
	}})
	if err != nil || out.Item == nil {
		t.Fatalf("token item: %v %v", out, err)
	}
	if v, ok := out.Item["expiresAt"]; ok {
		t.Fatalf("token item has the TTL attribute expiresAt=%v: DynamoDB would delete it and old links would get 404", v)
	}
	for name, v := range out.Item {
		if s, ok := v.(*types.AttributeValueMemberS); ok && s.Value == token {
			t.Fatalf("the clear token is stored in %s", name)
		}
	}

	// Years later it still names its claim and the notification it was for.
	got, err := s.GetToken(ctx, hash)
	if err != nil || got.ClaimID != c.ID || got.Version != c.Version+1 || !got.Deadline.Equal(deadline) {
		t.Fatalf("old token: %+v %v", got, err)
	}
	_, unknown := claim.NewOptOutToken()
	if _, err := s.GetToken(ctx, unknown); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown token: %v, want ErrNotFound", err)
	}
}
