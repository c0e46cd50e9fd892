package service_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/service"
	"github.com/cpor-claims/claims/shared/store"
)

// An idempotency replay hands out the stored claim only if it is the
// caller's partner's: a record naming another partner's claim (forged,
// or corrupted) is a conflict, never that claim.
func TestIdempotencyReplayChecksThePartner(t *testing.T) {
	ctx := context.Background()
	tb := testenv.DynamoDB(t)
	db := tb.DB
	svc := service.New(store.New(db, tb.Name), nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	idem := &service.Idempotency{Key: "k-1", RequestHash: "h-1"}
	c, replayed, err := svc.Create(ctx, admin, draft(), idem, t0)
	if err != nil || replayed {
		t.Fatalf("create: %v %v", replayed, err)
	}
	if again, replayed, err := svc.Create(ctx, admin, draft(), idem, t0); err != nil || !replayed || again.ID != c.ID {
		t.Fatalf("replay of the caller's own claim: %v %v", replayed, err)
	}
	// The claim the record names now belongs to another partner.
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &tb.Name,
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "CLAIM#" + c.ID}, "sk": &types.AttributeValueMemberS{Value: "META"}},
		UpdateExpression:          aws.String("SET partnerId = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "northwind"}}}); err != nil {
		t.Fatal(err)
	}
	got, replayed, err := svc.Create(ctx, admin, draft(), idem, t0)
	if !errors.Is(err, service.ErrIdempotencyConflict) || got != nil || replayed {
		t.Fatalf("replay of another partner's claim: %v %v %v", got, replayed, err)
	}
}
