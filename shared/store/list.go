package store

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cpor-claims/claims/shared/claim"
)

// ListQuery filters and pages a partner's claims.
type ListQuery struct {
	Status   claim.Status // optional
	TenantID string       // optional
	Limit    int          // 1..MaxListLimit (100 for JSON pages, 5,000 for CSV)
	Cursor   string       // from a previous page's Next, or empty
}

// Page is one page of claims, newest first.
type Page struct {
	Items []claim.Claim
	Next  string // empty on the last page
}

// cursor is the opaque position of a listing: the last claim returned, and
// a check sum binding it to the listing it came from (partner, status and
// tenant filters), so a cursor altered, or brought to another partner's or
// another filter's listing, is refused. Whatever it says, a cursor only
// ever positions a Query inside the caller's own partition: the partner is
// never taken from it.
type cursor struct {
	Created string `json:"c"`
	ID      string `json:"i"`
	Sum     string `json:"s"`
}

var cursorID = regexp.MustCompile(`^[0-9A-Za-z-]{1,64}$`)

// CursorScope names a listing: the partner and its filters.
func CursorScope(partnerID string, q ListQuery) string {
	return partnerID + "\x00" + string(q.Status) + "\x00" + strings.ToLower(q.TenantID)
}

func cursorSum(scope, createdKey, id string) string {
	h := sha256.Sum256([]byte(scope + "\x00" + createdKey + "\x00" + id))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// EncodeCursor and DecodeCursor are exported for tests and fuzzing.
func EncodeCursor(scope, createdKey, id string) string {
	b, _ := json.Marshal(cursor{Created: createdKey, ID: id, Sum: cursorSum(scope, createdKey, id)})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor checks a cursor that came back from a client for the listing
// scope: it must decode, name a well-formed claim id and a key time in the
// fixed format, and carry the sum of exactly these for this scope.
func DecodeCursor(scope, s string) (createdKey, id string, err error) {
	var c cursor
	if !readCursor(s, &c) {
		return "", "", ErrInvalidCursor
	}
	if !cursorID.MatchString(c.ID) || len(c.Created) != len(keyTime) {
		return "", "", ErrInvalidCursor
	}
	if t, err := time.Parse(keyTime, c.Created); err != nil || fmtKeyTime(t) != c.Created {
		return "", "", ErrInvalidCursor
	}
	if subtle.ConstantTimeCompare([]byte(c.Sum), []byte(cursorSum(scope, c.Created, c.ID))) != 1 {
		return "", "", ErrInvalidCursor
	}
	return c.Created, c.ID, nil
}

// MaxListLimit is the largest page a listing reads: a CSV export's.
const MaxListLimit = 5000

// List returns a partner's claims newest first, through the partner index,
// filtered by status and tenant when asked.
func (s *Store) List(ctx context.Context, partnerID string, q ListQuery) (Page, error) {
	if q.Limit < 1 || q.Limit > MaxListLimit {
		return Page{}, fmt.Errorf("limit %d: out of range", q.Limit)
	}
	var start map[string]types.AttributeValue
	if q.Cursor != "" {
		created, id, err := DecodeCursor(CursorScope(partnerID, q), q.Cursor)
		if err != nil {
			return Page{}, err
		}
		start = map[string]types.AttributeValue{
			attrPK: str(claimPK(id)), attrSK: str(metaSK),
			attrGSI1PK: str(partnerPrefix + partnerID), attrGSI1SK: str(created + "#" + id),
		}
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(IndexByPartner),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(partnerPrefix + partnerID)},
		ScanIndexForward:          aws.Bool(false),
	}
	var filters []string
	if q.Status != "" {
		filters = append(filters, "#st = :st")
		in.ExpressionAttributeValues[":st"] = str(string(q.Status))
	}
	if q.TenantID != "" {
		filters = append(filters, "#cu.#tid = :tid")
		in.ExpressionAttributeValues[":tid"] = str(strings.ToLower(q.TenantID))
	}
	if len(filters) > 0 {
		in.FilterExpression = aws.String(strings.Join(filters, " AND "))
		in.ExpressionAttributeNames = map[string]string{}
		if q.Status != "" {
			in.ExpressionAttributeNames["#st"] = "status"
		}
		if q.TenantID != "" {
			in.ExpressionAttributeNames["#cu"] = "customer"
			in.ExpressionAttributeNames["#tid"] = "tenantId"
		}
	}
	items, last, err := queryPage(ctx, s.db, in, start, q.Limit, decodeClaim)
	if err != nil {
		return Page{}, fmt.Errorf("list claims: %w", err)
	}
	page := Page{Items: items}
	if last != nil {
		sk := strAttr(last, attrGSI1SK)
		created, id, ok := strings.Cut(sk, "#")
		if !ok {
			return Page{}, fmt.Errorf("list claims: unexpected index key %q", sk)
		}
		page.Next = EncodeCursor(CursorScope(partnerID, q), created, id)
	}
	return page, nil
}

// queryPage runs the Query in from start until it has limit items or the
// index ends: a filter applies after DynamoDB's limit, so each round asks
// for what is still missing. last is the key to go on from when the page
// is full and more may follow, nil when the listing ended.
func queryPage[T any](ctx context.Context, db DB, in *dynamodb.QueryInput, start map[string]types.AttributeValue, limit int,
	decode func(map[string]types.AttributeValue) (*T, error)) (items []T, last map[string]types.AttributeValue, err error) {
	items = []T{}
	for {
		in.Limit = aws.Int32(int32(limit - len(items)))
		in.ExclusiveStartKey = start
		out, err := db.Query(ctx, in)
		if err != nil {
			return nil, nil, err
		}
		for _, it := range out.Items {
			v, err := decode(it)
			if err != nil {
				return nil, nil, err
			}
			items = append(items, *v)
		}
		start = out.LastEvaluatedKey
		if start == nil {
			return items, nil, nil
		}
		if len(items) >= limit {
			return items, start, nil
		}
	}
}

// readCursor reads a cursor's JSON (base64url, at most 512 characters,
// no unknown member, nothing after it) into c; whether its sum matches is
// the caller's to check.
func readCursor(s string, c any) bool {
	if len(s) == 0 || len(s) > 512 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	return dec.Decode(c) == nil && !dec.More()
}
