package store

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// UnitQuery filters and pages what a partner holds (GET /associations).
type UnitQuery struct {
	TenantID  string // optional
	ProductID string // optional
	Limit     int    // 1..MaxListLimit
	Cursor    string // from a previous page's Next, or empty
}

// UnitPage is one page of held units, by tenant, product and unit.
type UnitPage struct {
	Items []Unit
	Next  string // empty on the last page
}

// unitCursor is the position of a registry listing: the last unit's index
// sort key, and the sum binding it to the listing (partner and filters), as
// the claims' cursors are bound (an altered cursor, or one of another
// listing, is ErrInvalidCursor).
type unitCursor struct {
	Key string `json:"k"`
	Sum string `json:"s"`
}

var holderSKRE = regexp.MustCompile(`^[0-9a-f-]{36}#[a-z0-9-]{1,64}#(WORKLOAD|SUB#[0-9a-f-]{36})$`)

// UnitScope names a registry listing: the partner and its filters.
func UnitScope(partnerID string, q UnitQuery) string {
	return "units\x00" + partnerID + "\x00" + strings.ToLower(q.TenantID) + "\x00" + q.ProductID
}

// EncodeUnitCursor and DecodeUnitCursor are exported for tests.
func EncodeUnitCursor(scope, holderSK string) string {
	b, _ := json.Marshal(unitCursor{Key: holderSK, Sum: cursorSum(scope, "unit", holderSK)})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeUnitCursor checks a cursor for the listing scope.
func DecodeUnitCursor(scope, s string) (string, error) {
	var c unitCursor
	if !readCursor(s, &c) || !holderSKRE.MatchString(c.Key) {
		return "", ErrInvalidCursor
	}
	if subtle.ConstantTimeCompare([]byte(c.Sum), []byte(cursorSum(scope, "unit", c.Key))) != 1 {
		return "", ErrInvalidCursor
	}
	return c.Key, nil
}

// HeldBy lists the units partnerID holds now, one per held workload, whole
// product or subscription, through ONE Query of the ByHolder index per
// page (no Scan, no read per unit): a tenant filter narrows the key
// condition (begins_with), a product filter too when the tenant is given,
// else it filters the Query.
func (s *Store) HeldBy(ctx context.Context, partnerID string, q UnitQuery) (UnitPage, error) {
	if q.Limit < 1 || q.Limit > MaxListLimit {
		return UnitPage{}, fmt.Errorf("limit %d: out of range", q.Limit)
	}
	q.TenantID = strings.ToLower(q.TenantID)
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(IndexByHolder),
		KeyConditionExpression:    aws.String("holderpk = :h"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": str(holderPrefix + partnerID)},
	}
	switch {
	case q.TenantID != "" && q.ProductID != "":
		in.KeyConditionExpression = aws.String("holderpk = :h AND begins_with(holdersk, :k)")
		in.ExpressionAttributeValues[":k"] = str(q.TenantID + "#" + q.ProductID + "#")
	case q.TenantID != "":
		in.KeyConditionExpression = aws.String("holderpk = :h AND begins_with(holdersk, :k)")
		in.ExpressionAttributeValues[":k"] = str(q.TenantID + "#")
	case q.ProductID != "":
		in.FilterExpression = aws.String("productId = :p")
		in.ExpressionAttributeValues[":p"] = str(q.ProductID)
	}
	scope := UnitScope(partnerID, q)
	var start map[string]types.AttributeValue
	if q.Cursor != "" {
		hsk, err := DecodeUnitCursor(scope, q.Cursor)
		if err != nil {
			return UnitPage{}, err
		}
		parts := strings.SplitN(hsk, "#", 3)
		start = map[string]types.AttributeValue{
			attrPK: str(assocPK(parts[0] + "#" + parts[1])), attrSK: str(parts[2]),
			attrHolderPK: str(holderPrefix + partnerID), attrHolderSK: str(hsk),
		}
	}
	items, last, err := queryPage(ctx, s.db, in, start, q.Limit, decodeUnit)
	if err != nil {
		return UnitPage{}, fmt.Errorf("list held units: %w", err)
	}
	page := UnitPage{Items: items}
	if last != nil {
		page.Next = EncodeUnitCursor(scope, strAttr(last, attrHolderSK))
	}
	return page, nil
}
