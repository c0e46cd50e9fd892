package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cpor-claims/claims/shared/claim"
)

// Holding is who holds a workload, a whole product or one subscription.
type Holding struct {
	PartnerID string `json:"partnerId"`
	ClaimID   string `json:"claimId"`
}

// Association is the item of one tenant and product: the holder of the whole
// workload (Microsoft 365) or product (all subscriptions), and the holders of
// single subscriptions (Business Applications). Version guards every update.
type Association struct {
	TenantID      string             `json:"tenantId"`
	ProductID     string             `json:"productId"`
	Holder        *Holding           `json:"holder,omitempty"`
	Subscriptions map[string]Holding `json:"subscriptions,omitempty"`
	Version       int64              `json:"version"`
}

func assocPK(itemKey string) string { return assocPrefix + itemKey }

// errAssocChanged: an association item changed between read and write.
var errAssocChanged = errors.New("association item changed")

func (a *Association) holderPartner() string {
	if a == nil || a.Holder == nil {
		return ""
	}
	return a.Holder.PartnerID
}

func (a *Association) subPartners() map[string]string {
	if a == nil {
		return nil
	}
	m := make(map[string]string, len(a.Subscriptions))
	for sub, h := range a.Subscriptions {
		m[sub] = h.PartnerID
	}
	return m
}

// Association reads the item of one tenant and product (nil when nobody
// holds anything there).
func (s *Store) Association(ctx context.Context, tenantID, productID string) (*Association, error) {
	k := claim.AssociationKey{TenantID: tenantID, ProductID: productID}
	return s.association(ctx, k.ItemKey())
}

func (s *Store) association(ctx context.Context, itemKey string) (*Association, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(assocPK(itemKey), lockSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get association: %w", err)
	}
	if out.Item == nil {
		return nil, nil
	}
	var a Association
	if err := unmarshal(out.Item, &a); err != nil {
		return nil, fmt.Errorf("decode association: %w", err)
	}
	return &a, nil
}

// associations reads the items a claim's keys touch, by item key.
func (s *Store) associations(ctx context.Context, keys []claim.AssociationKey) (map[string]*Association, error) {
	items := make(map[string]*Association, len(keys))
	for _, k := range keys {
		ik := k.ItemKey()
		if _, seen := items[ik]; seen {
			continue
		}
		a, err := s.association(ctx, ik)
		if err != nil {
			return nil, err
		}
		items[ik] = a
	}
	return items, nil
}

// HeldByOther reports whether another partner holds (has an approved
// association for) any workload or subscription the claim names.
func (s *Store) HeldByOther(ctx context.Context, c *claim.Claim) (bool, error) {
	keys := claim.AssociationKeys(c)
	items, err := s.associations(ctx, keys)
	if err != nil {
		return false, err
	}
	return conflicting(items, keys, c.PartnerID), nil
}

func conflicting(items map[string]*Association, keys []claim.AssociationKey, partnerID string) bool {
	for _, k := range keys {
		a := items[k.ItemKey()]
		if claim.Conflicts(a.holderPartner(), a.subPartners(), k, partnerID) {
			return true
		}
	}
	return false
}

// maxApproveAttempts bounds re-reads when association items change under an
// approval (another product of the same tenant being approved meanwhile).
const maxApproveAttempts = 5

// Approve commits an approval (ch: the claim moved to Approved) together
// with the association items of all its products, all or nothing. It fails
// with ErrAssociationHeld when another partner holds any of them, read
// before the write and enforced by each item's version condition.
func (s *Store) Approve(ctx context.Context, ch Change) error {
	return s.ApproveKnown(ctx, ch, nil)
}

// ApproveKnown is Approve with association items already read (by
// AssociationsOf, for a whole page of claims): the first attempt uses them
// when they cover the claim's keys, and any that changed since fail their
// version condition, so the next attempt reads them again.
func (s *Store) ApproveKnown(ctx context.Context, ch Change, known map[string]*Association) error {
	keys := claim.AssociationKeys(ch.Claim)
	for attempt := 0; attempt < maxApproveAttempts; attempt++ {
		items, ok := covered(known, keys)
		if attempt > 0 || !ok {
			var err error
			if items, err = s.associations(ctx, keys); err != nil {
				return err
			}
		}
		if conflicting(items, keys, ch.Claim.PartnerID) {
			return fmt.Errorf("claim %s: %w", ch.Claim.ID, ErrAssociationHeld)
		}
		ops, err := s.associationOps(items, keys, ch.Claim)
		if err != nil {
			return err
		}
		attemptCh := ch
		attemptCh.Ops = append(append([]Op(nil), ch.Ops...), ops...)
		err = s.Commit(ctx, attemptCh)
		if !errors.Is(err, errAssocChanged) {
			return err
		}
	}
	return fmt.Errorf("claim %s: association items kept changing: %w", ch.Claim.ID, ErrVersionConflict)
}

// associationOps writes the claim's holdings into the items it touches, each
// under the version it was read at.
func (s *Store) associationOps(items map[string]*Association, keys []claim.AssociationKey, c *claim.Claim) ([]Op, error) {
	next := make(map[string]*Association, len(items))
	var order []string
	for _, k := range keys {
		ik := k.ItemKey()
		a, ok := next[ik]
		if !ok {
			a = &Association{TenantID: k.TenantID, ProductID: k.ProductID}
			if old := items[ik]; old != nil {
				cp := *old
				cp.Subscriptions = make(map[string]Holding, len(old.Subscriptions)+1)
				for sub, h := range old.Subscriptions {
					cp.Subscriptions[sub] = h
				}
				a = &cp
			}
			next[ik] = a
			order = append(order, ik)
		}
		h := Holding{PartnerID: c.PartnerID, ClaimID: c.ID}
		if k.SubscriptionID == "" {
			a.Holder = &h
			continue
		}
		if a.Subscriptions == nil {
			a.Subscriptions = map[string]Holding{}
		}
		a.Subscriptions[k.SubscriptionID] = h
	}
	ops := make([]Op, 0, len(order))
	for _, ik := range order {
		a := next[ik]
		prev := a.Version
		a.Version++
		item, err := marshal(a)
		if err != nil {
			return nil, fmt.Errorf("marshal association: %w", err)
		}
		item[attrPK] = str(assocPK(ik))
		item[attrSK] = str(lockSK)
		item[attrType] = str(typeAssoc)
		put := &types.Put{Item: item}
		if items[ik] == nil {
			put.ConditionExpression = aws.String("attribute_not_exists(pk)")
		} else {
			put.ConditionExpression = aws.String("version = :v")
			put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(prev)}
		}
		ops = append(ops, Op{Item: types.TransactWriteItem{Put: put}, OnConditionFailed: errAssocChanged})
	}
	return ops, nil
}

// covered picks the claim's items from known, if known has them all (a nil
// value: read, and nobody holds anything there).
func covered(known map[string]*Association, keys []claim.AssociationKey) (map[string]*Association, bool) {
	if known == nil {
		return nil, false
	}
	items := make(map[string]*Association, len(keys))
	for _, k := range keys {
		a, ok := known[k.ItemKey()]
		if !ok {
			return nil, false
		}
		items[k.ItemKey()] = a
	}
	return items, true
}

// AssociationsOf reads the association items of all the claims' products
// in as few BatchGetItem calls as DynamoDB allows (100 keys each,
// consistent reads), so deciding a page of claims needs no read per claim.
// Every key read is in the result; nil for an item that does not exist.
func (s *Store) AssociationsOf(ctx context.Context, claims []*claim.Claim) (map[string]*Association, error) {
	known := map[string]*Association{}
	var want []string
	for _, c := range claims {
		for _, k := range claim.AssociationKeys(c) {
			if _, ok := known[k.ItemKey()]; !ok {
				known[k.ItemKey()] = nil
				want = append(want, k.ItemKey())
			}
		}
	}
	for len(want) > 0 {
		n := min(100, len(want))
		keys := make([]map[string]types.AttributeValue, 0, n)
		for _, ik := range want[:n] {
			keys = append(keys, key(assocPK(ik), lockSK))
		}
		want = want[n:]
		req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(req[s.table].Keys) > 0; attempt++ {
			if attempt > 8 {
				return nil, fmt.Errorf("batch get associations: unprocessed keys remain")
			}
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("batch get associations: %w", err)
			}
			for _, it := range out.Responses[s.table] {
				var a Association
				if err := unmarshal(it, &a); err != nil {
					return nil, fmt.Errorf("decode association: %w", err)
				}
				if pk, ok := it[attrPK].(*types.AttributeValueMemberS); ok {
					known[strings.TrimPrefix(pk.Value, assocPrefix)] = &a
				}
			}
			req = out.UnprocessedKeys
		}
	}
	return known, nil
}
