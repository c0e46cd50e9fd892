package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const typeDeclined = "declined"

// Declined is what a customer declined by opting out of a claim: the
// claim's partner on that tenant, for those products, until Until (the
// cool-down). Validation rejects the partner's new claims on any of the
// products of that tenant until then (customer_declined_recently).
type Declined struct {
	TenantID  string
	PartnerID string
	ClaimID   string
	Products  []string
	Until     time.Time
}

// declinedItem is one declined product.
type declinedItem struct {
	TenantID  string `json:"tenantId"`
	PartnerID string `json:"partnerId"`
	ProductID string `json:"productId"`
	ClaimID   string `json:"claimId"`
	Until     string `json:"until"`
	ExpiresAt int64  `json:"expiresAt"` // the table's TTL: gone once the cool-down ended
}

func declinedPK(tenantID, partnerID string) string {
	return declinedPrefix + strings.ToLower(tenantID) + "#" + partnerID
}

// DeclinedOps are the puts recording d, one item per product, for the
// opt-out's transaction. A later opt-out of the same products overwrites
// them (its cool-down ends later).
func (s *Store) DeclinedOps(d Declined) ([]Op, error) {
	if err := keyPart("tenant id", d.TenantID); err != nil {
		return nil, err
	}
	if err := keyPart("partner id", d.PartnerID); err != nil {
		return nil, err
	}
	var ops []Op
	seen := map[string]bool{}
	for _, p := range d.Products {
		if seen[p] {
			continue // never two operations on one item in a transaction
		}
		seen[p] = true
		if err := keyPart("product id", p); err != nil {
			return nil, err
		}
		item, err := marshal(declinedItem{TenantID: strings.ToLower(d.TenantID), PartnerID: d.PartnerID, ProductID: p, ClaimID: d.ClaimID,
			Until: d.Until.UTC().Format(time.RFC3339), ExpiresAt: d.Until.Unix()})
		if err != nil {
			return nil, fmt.Errorf("marshal declined: %w", err)
		}
		item[attrPK] = str(declinedPK(d.TenantID, d.PartnerID))
		item[attrSK] = str(declinedSK + p)
		item[attrType] = str(typeDeclined)
		ops = append(ops, Op{Item: types.TransactWriteItem{Put: &types.Put{Item: item}}})
	}
	return ops, nil
}

// DeclinedUntil says until when the customer of tenantID declined
// partnerID's claims on any of products: the latest end of a cool-down
// still running at now, and the products it covers (none: zero time).
// One Query of the tenant's and partner's partition.
func (s *Store) DeclinedUntil(ctx context.Context, tenantID, partnerID string, products []string, now time.Time) (time.Time, []string, error) {
	var until time.Time
	var covered []string
	if keyPart("tenant id", tenantID) != nil || keyPart("partner id", partnerID) != nil {
		return until, nil, nil // no such key was ever written
	}
	var start map[string]types.AttributeValue
	for {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, KeyConditionExpression: aws.String("pk = :pk"), ConsistentRead: aws.Bool(true),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(declinedPK(tenantID, partnerID))},
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return until, nil, fmt.Errorf("query declined: %w", err)
		}
		for _, it := range out.Items {
			var d declinedItem
			if err := unmarshal(it, &d); err != nil {
				return until, nil, fmt.Errorf("decode declined: %w", err)
			}
			u, err := time.Parse(time.RFC3339, d.Until)
			if err != nil || !now.Before(u) || !slices.Contains(products, d.ProductID) {
				continue // ended (TTL deletes lazily), or another product
			}
			covered = append(covered, d.ProductID)
			if u.After(until) {
				until = u
			}
		}
		if start = out.LastEvaluatedKey; len(start) == 0 {
			return until, covered, nil
		}
	}
}
