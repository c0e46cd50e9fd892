package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cpor-claims/claims/shared/claim"
)

// End commits the end of an approved association (ch: the claim moved to
// Ended by claim.End) in ONE transaction with the release of every
// association unit the claim holds: the claim under its status and
// version, its history event, and each unit under the condition that it
// still names the claim. Either the claim ended and its units are free, or
// nothing changed. A unit that changed meanwhile fails with
// ErrVersionConflict: the caller reads again and retries.
func (s *Store) End(ctx context.Context, ch Change) error {
	ops, err := s.releaseOps(ctx, ch.Claim)
	if err != nil {
		return err
	}
	ch.Ops = append(append([]Op(nil), ch.Ops...), ops...)
	return s.Commit(ctx, ch)
}

// releaseOps are the writes that free what c holds: each association item
// of its products with c's holdings removed, under the version it was read
// at (an approval of the same item meanwhile fails this transaction, which
// is then read again).
func (s *Store) releaseOps(ctx context.Context, c *claim.Claim) ([]Op, error) {
	keys := claim.AssociationKeys(c)
	items, err := s.associations(ctx, keys)
	if err != nil {
		return nil, err
	}
	var ops []Op
	done := map[string]bool{}
	for _, k := range keys {
		ik := k.ItemKey()
		a := items[ik]
		if a == nil || done[ik] {
			continue
		}
		done[ik] = true
		next := *a
		changed := false
		if a.Holder != nil && a.Holder.ClaimID == c.ID {
			next.Holder, changed = nil, true
		}
		next.Subscriptions = make(map[string]Holding, len(a.Subscriptions))
		for sub, h := range a.Subscriptions {
			if h.ClaimID == c.ID {
				changed = true
				continue
			}
			next.Subscriptions[sub] = h
		}
		if !changed {
			continue
		}
		next.Version++
		item, err := marshal(&next)
		if err != nil {
			return nil, fmt.Errorf("marshal association: %w", err)
		}
		item[attrPK] = str(assocPK(ik))
		item[attrSK] = str(lockSK)
		item[attrType] = str(typeAssoc)
		ops = append(ops, Op{
			Item: types.TransactWriteItem{Put: &types.Put{
				Item: item, ConditionExpression: aws.String("version = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(a.Version)},
			}},
			OnConditionFailed: fmt.Errorf("association %s changed: %w", ik, ErrVersionConflict),
		})
	}
	return ops, nil
}

// SubscriptionHolders returns the ids of the claims holding subscription
// subscriptionID of tenantID on their own (not as a whole product): the
// association items of every per-subscription product of the catalog for
// that tenant, read in one BatchGetItem (no Scan, no read per claim).
func (s *Store) SubscriptionHolders(ctx context.Context, tenantID, subscriptionID string) ([]string, error) {
	tenantID, subscriptionID = strings.ToLower(tenantID), strings.ToLower(subscriptionID)
	var probe []*claim.Claim
	for _, p := range claim.Catalog() {
		if p.AssociationUnit == claim.UnitSubscription {
			probe = append(probe, &claim.Claim{
				Customer: claim.Customer{TenantID: tenantID},
				Products: []claim.ProductRef{{ID: p.ID, SubscriptionID: subscriptionID}},
			})
		}
	}
	items, err := s.AssociationsOf(ctx, probe)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, a := range items {
		if a == nil {
			continue
		}
		if h, ok := a.Subscriptions[subscriptionID]; ok && !slices.Contains(ids, h.ClaimID) {
			ids = append(ids, h.ClaimID)
		}
	}
	slices.Sort(ids)
	return ids, nil
}
