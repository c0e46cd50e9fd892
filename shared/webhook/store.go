package webhook

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Keys in the single table: a partner's webhooks, their counter, their
// deliveries and attempts all live in the partner's WEBHOOK# partition.
const (
	hookPrefix    = "WEBHOOK#"
	hookSK        = "HOOK#"
	countSK       = "COUNT"
	deliverySK    = "DLV#"
	attemptSK     = "ATT#"
	keyTimeLayout = "2006-01-02T15:04:05.000000000Z"
)

// Errors of the store.
var (
	ErrNotFound      = errors.New("webhook not found")
	ErrTooMany       = errors.New("too many webhooks")
	ErrConflict      = errors.New("webhook changed concurrently")
	ErrInvalidCursor = errors.New("invalid cursor")
)

// DB is the part of DynamoDB the store uses.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Store keeps webhooks, deliveries and attempts.
type Store struct {
	DB    DB
	Table string
}

// Record is a webhook as stored.
type Record struct {
	Webhook
	PartnerID string         `json:"partnerId"`
	Secrets   []SealedSecret `json:"secrets"`
	Rev       int64          `json:"rev"`
}

// Delivery is one event's delivery to one webhook.
type Delivery struct {
	ID        string          `json:"deliveryId"`
	WebhookID string          `json:"webhookId"`
	PartnerID string          `json:"partnerId"`
	EventID   string          `json:"eventId"`
	Detail    json.RawMessage `json:"-"`
	DetailS   string          `json:"detail"`
	At        string          `json:"eventAt"`
	Status    string          `json:"status"` // pending, succeeded, failed
	Attempts  int             `json:"attempts"`
	// Round counts the attempts since the delivery was (re)started: the
	// retry schedule's position (a manual retry starts a new round).
	Round int `json:"round"`
}

// Attempt is one POST of a delivery (API.md's deliveries log).
type Attempt struct {
	ID             string    `json:"id"`
	EventID        string    `json:"eventId"`
	Attempt        int       `json:"attempt"`
	At             time.Time `json:"at"`
	Status         string    `json:"status"`
	ResponseStatus *int      `json:"responseStatus"`
	DurationMs     int64     `json:"durationMs"`
	Error          *string   `json:"error"`
}

func s(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s(pk), "sk": s(sk)}
}

func opts(o *attributevalue.EncoderOptions)  { o.TagKey = "json" }
func dopts(o *attributevalue.DecoderOptions) { o.TagKey = "json" }
func partitionOf(partner string) string      { return hookPrefix + partner }
func fmtTime(t time.Time) string             { return t.UTC().Format(keyTimeLayout) }
func isCondFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func (st *Store) item(pk, sk, typ string, v any) (map[string]types.AttributeValue, error) {
	it, err := attributevalue.MarshalMapWithOptions(v, opts)
	if err != nil {
		return nil, err
	}
	it["pk"], it["sk"], it["itemType"] = s(pk), s(sk), s(typ)
	return it, nil
}

// Create puts a new webhook if the partner has fewer than MaxPerPartner:
// the partner's counter and the webhook in one transaction.
func (st *Store) Create(ctx context.Context, r *Record) error {
	it, err := st.item(partitionOf(r.PartnerID), hookSK+r.ID, "webhook", r)
	if err != nil {
		return err
	}
	_, err = st.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: &st.Table, Key: key(partitionOf(r.PartnerID), countSK),
			UpdateExpression:          aws.String("ADD n :one SET itemType = :t"),
			ConditionExpression:       aws.String("attribute_not_exists(n) OR n < :max"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}, ":max": &types.AttributeValueMemberN{Value: strconv.Itoa(MaxPerPartner)}, ":t": s("webhookCount")}}},
		{Put: &types.Put{TableName: &st.Table, Item: it, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 && aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		return ErrTooMany
	}
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	return nil
}

// Get reads one of the partner's webhooks (ErrNotFound for another's).
func (st *Store) Get(ctx context.Context, partner, id string) (*Record, error) {
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.Table, Key: key(partitionOf(partner), hookSK+id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get webhook: %w", err)
	}
	if out.Item == nil {
		return nil, ErrNotFound
	}
	var r Record
	if err := attributevalue.UnmarshalMapWithOptions(out.Item, &r, dopts); err != nil {
		return nil, err
	}
	return &r, nil
}

// List returns the partner's webhooks, oldest first.
func (st *Store) List(ctx context.Context, partner string) ([]Record, error) {
	out, err := st.DB.Query(ctx, &dynamodb.QueryInput{TableName: &st.Table,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(partitionOf(partner)), ":sk": s(hookSK)},
		ConsistentRead:            aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	recs := []Record{}
	for _, it := range out.Items {
		var r Record
		if err := attributevalue.UnmarshalMapWithOptions(it, &r, dopts); err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// Delete removes a webhook and counts it out, in one transaction.
func (st *Store) Delete(ctx context.Context, partner, id string) error {
	_, err := st.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &st.Table, Key: key(partitionOf(partner), hookSK+id), ConditionExpression: aws.String("attribute_exists(pk)")}},
		{Update: &types.Update{TableName: &st.Table, Key: key(partitionOf(partner), countSK),
			UpdateExpression: aws.String("ADD n :minus"), ExpressionAttributeValues: map[string]types.AttributeValue{":minus": &types.AttributeValueMemberN{Value: "-1"}}}},
	}})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 && aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		return ErrNotFound
	}
	return err
}

// Replace writes r if it is still at revision r.Rev (then r.Rev+1).
func (st *Store) Replace(ctx context.Context, r *Record) error {
	prev := r.Rev
	r.Rev++
	it, err := st.item(partitionOf(r.PartnerID), hookSK+r.ID, "webhook", r)
	if err != nil {
		return err
	}
	_, err = st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.Table, Item: it,
		ConditionExpression:       aws.String("attribute_exists(pk) AND rev = :rev"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":rev": &types.AttributeValueMemberN{Value: strconv.FormatInt(prev, 10)}}})
	if isCondFailed(err) {
		return ErrConflict
	}
	return err
}

// Disable turns a webhook off (a 410 answer).
func (st *Store) Disable(ctx context.Context, partner, id string) error {
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &st.Table, Key: key(partitionOf(partner), hookSK+id),
		UpdateExpression: aws.String("SET enabled = :f ADD rev :one"), ConditionExpression: aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":f": &types.AttributeValueMemberBOOL{Value: false}, ":one": &types.AttributeValueMemberN{Value: "1"}}})
	if isCondFailed(err) {
		return ErrNotFound
	}
	return err
}

// PutDelivery records a delivery unless it exists; created says which.
func (st *Store) PutDelivery(ctx context.Context, d *Delivery) (created bool, err error) {
	d.DetailS = string(d.Detail)
	it, err := st.item(partitionOf(d.PartnerID), deliverySK+d.WebhookID+"#"+d.ID, "delivery", d)
	if err != nil {
		return false, err
	}
	_, err = st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.Table, Item: it, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if isCondFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// GetDelivery reads a delivery.
func (st *Store) GetDelivery(ctx context.Context, partner, webhookID, id string) (*Delivery, error) {
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.Table, Key: key(partitionOf(partner), deliverySK+webhookID+"#"+id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	if out.Item == nil {
		return nil, ErrNotFound
	}
	var d Delivery
	if err := attributevalue.UnmarshalMapWithOptions(out.Item, &d, dopts); err != nil {
		return nil, err
	}
	d.Detail = json.RawMessage(d.DetailS)
	return &d, nil
}

// SetDeliveryStatus sets a delivery's status, attempt count and round.
func (st *Store) SetDeliveryStatus(ctx context.Context, partner, webhookID, id, status string, attempts, round int) error {
	in := &dynamodb.UpdateItemInput{TableName: &st.Table, Key: key(partitionOf(partner), deliverySK+webhookID+"#"+id),
		UpdateExpression: aws.String("SET #s = :s, attempts = :a, round = :r"), ConditionExpression: aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": s(status), ":a": &types.AttributeValueMemberN{Value: strconv.Itoa(attempts)},
			":r": &types.AttributeValueMemberN{Value: strconv.Itoa(round)}}}
	_, err := st.DB.UpdateItem(ctx, in)
	if isCondFailed(err) {
		return ErrNotFound
	}
	return err
}

// PutAttempt records one attempt.
func (st *Store) PutAttempt(ctx context.Context, partner, webhookID string, a Attempt) error {
	sk := fmt.Sprintf("%s%s#%s#%s#%04d", attemptSK, webhookID, fmtTime(a.At), a.ID, a.Attempt)
	it, err := st.item(partitionOf(partner), sk, "deliveryAttempt", a)
	if err != nil {
		return err
	}
	_, err = st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.Table, Item: it})
	return err
}

// Attempts lists a webhook's attempts, newest first, limit at a time.
func (st *Store) Attempts(ctx context.Context, partner, webhookID string, limit int, cursor string) ([]Attempt, string, error) {
	prefix := attemptSK + webhookID + "#"
	in := &dynamodb.QueryInput{TableName: &st.Table,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(partitionOf(partner)), ":sk": s(prefix)},
		ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(int32(limit)), ConsistentRead: aws.Bool(true)}
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || len(raw) <= len(prefix) || string(raw[:len(prefix)]) != prefix {
			return nil, "", ErrInvalidCursor
		}
		in.ExclusiveStartKey = key(partitionOf(partner), string(raw))
	}
	out, err := st.DB.Query(ctx, in)
	if err != nil {
		return nil, "", err
	}
	items := []Attempt{}
	for _, it := range out.Items {
		var a Attempt
		if err := attributevalue.UnmarshalMapWithOptions(it, &a, dopts); err != nil {
			return nil, "", err
		}
		items = append(items, a)
	}
	next := ""
	if lek := out.LastEvaluatedKey; lek != nil {
		if sk, ok := lek["sk"].(*types.AttributeValueMemberS); ok {
			next = base64.RawURLEncoding.EncodeToString([]byte(sk.Value))
		}
	}
	return items, next, nil
}
