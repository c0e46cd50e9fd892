package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/cpor-claims/claims/local/testenv"
)

// The DynamoDB answers the store's code relies on, asked directly: run on
// DynamoDB Local and on the in-memory DB like every test here, they hold
// local/memdb to what DynamoDB does where the store's own tests would only
// see it indirectly.
func TestDynamoDBAnswersTheStoreReliesOn(t *testing.T) {
	eachDB(t, testDynamoDBAnswersTheStoreReliesOn)
}

func testDynamoDBAnswersTheStoreReliesOn(t *testing.T, db testenv.Table) {
	ctx := context.Background()
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	k := func(pk, sk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": s(pk), "sk": s(sk)}
	}
	put := func(pk, sk string, extra map[string]types.AttributeValue) {
		it := k(pk, sk)
		for a, v := range extra {
			it[a] = v
		}
		if _, err := db.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &db.Name, Item: it}); err != nil {
			t.Fatalf("put %s %s: %v", pk, sk, err)
		}
	}
	put("T#a", "META", map[string]types.AttributeValue{"v": n("1"), "list": &types.AttributeValueMemberL{Value: []types.AttributeValue{}}})

	// A missing item is no item, not an empty one.
	if out, err := db.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &db.Name, Key: k("T#none", "META")}); err != nil || out.Item != nil {
		t.Fatalf("missing item: %v %v, want a nil Item", out.Item, err)
	}

	// A transaction whose second item fails writes nothing; its reasons name
	// each item, the failed one with the item as it was (ALL_OLD).
	_, err := db.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &db.Name, Item: k("T#b", "META"), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Update: &types.Update{TableName: &db.Name, Key: k("T#a", "META"), UpdateExpression: aws.String("ADD v :one"),
			ConditionExpression: aws.String("v = :two"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": n("1"), ":two": n("2")},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
	}})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) != 2 {
		t.Fatalf("failed transaction: %v, want TransactionCanceledException with two reasons", err)
	}
	if r := tce.CancellationReasons; aws.ToString(r[0].Code) != "None" || aws.ToString(r[1].Code) != "ConditionalCheckFailed" {
		t.Fatalf("reasons %s, %s; want None, ConditionalCheckFailed", aws.ToString(r[0].Code), aws.ToString(r[1].Code))
	}
	if old, _ := tce.CancellationReasons[1].Item["v"].(*types.AttributeValueMemberN); old == nil || old.Value != "1" {
		t.Fatalf("the failed item's old state: %v", tce.CancellationReasons[1].Item)
	}
	if out, _ := db.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &db.Name, Key: k("T#b", "META")}); out.Item != nil {
		t.Fatal("the cancelled transaction wrote its first item")
	}
	// The item with an empty list stays usable by expressions.
	if _, err := db.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &db.Name, Key: k("T#a", "META"),
		UpdateExpression: aws.String("ADD v :one"), ConditionExpression: aws.String("v = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": n("1"), ":v": n("1")}}); err != nil {
		t.Fatalf("update of an item holding an empty list: %v", err)
	}
	// A failed single write is a ConditionalCheckFailedException.
	_, err = db.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &db.Name, Item: k("T#a", "META"), ConditionExpression: aws.String("attribute_not_exists(pk)")})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("put over an item: %v, want ConditionalCheckFailedException", err)
	}
	// Two operations on one item in a transaction are refused outright.
	_, err = db.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &db.Name, Item: k("T#c", "META")}},
		{Delete: &types.Delete{TableName: &db.Name, Key: k("T#c", "META")}},
	}})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ValidationException" {
		t.Fatalf("two operations on one item: %v, want ValidationException", err)
	}
	// An expression value no expression uses is refused.
	_, err = db.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &db.Name, Item: k("T#d", "META"), ConditionExpression: aws.String("attribute_not_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":unused": n("1")}})
	if !errors.As(err, &api) || api.ErrorCode() != "ValidationException" {
		t.Fatalf("an unused expression value: %v, want ValidationException", err)
	}

	// Query: sort key order, Limit, and no LastEvaluatedKey once a page
	// ends the partition short of Limit.
	for _, sk := range []string{"E#3", "E#1", "E#2"} {
		put("T#q", sk, nil)
	}
	in := &dynamodb.QueryInput{TableName: &db.Name, KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :e)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("T#q"), ":e": s("E#")}, Limit: aws.Int32(2), ConsistentRead: aws.Bool(true)}
	var got []string
	pages := 0
	for {
		out, err := db.DB.Query(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range out.Items {
			got = append(got, it["sk"].(*types.AttributeValueMemberS).Value)
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		if pages > 3 {
			t.Fatalf("the query does not end: pages %d, items %v", pages, got)
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if len(got) != 3 || got[0] != "E#1" || got[1] != "E#2" || got[2] != "E#3" || pages != 2 {
		t.Fatalf("query: %v in %d pages, want E#1 E#2 E#3 in 2", got, pages)
	}
	// A consistent read of a global secondary index is refused.
	_, err = db.DB.Query(ctx, &dynamodb.QueryInput{TableName: &db.Name, IndexName: aws.String("ByPartner"), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("gsi1pk = :p"), ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("x")}})
	if !errors.As(err, &api) || api.ErrorCode() != "ValidationException" {
		t.Fatalf("a consistent read of a GSI: %v, want ValidationException", err)
	}
}
