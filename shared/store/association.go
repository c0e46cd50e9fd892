package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cpor-claims/claims/shared/claim"
)

// Association units (DESIGN.md "Association items (v2)"). Each tenant and
// product is one partition, ASSOC#<tenantId>#<productId>, holding one item
// per held unit:
//
//   - WORKLOAD: a Microsoft 365 workload, or a Business Applications
//     product held for all its subscriptions;
//   - SUB#<subscriptionId>: one subscription of a Business Applications
//     product.
//
// The WORKLOAD item is also the partition's guard: it carries a version and
// the number of SUB# units (subscriptionUnits), and every transaction that
// adds, takes over or ends a unit of the partition writes it too (creating
// it, without a holder, when nobody holds the whole product). An approval
// reads the WORKLOAD item first and commits under its version, so two
// approvals of one partition (a whole-product claim and a per-subscription
// claim of different partners, say) cannot both win: the second fails its
// condition, reads again and sees the first. A WORKLOAD item without
// partnerId holds nothing; it is never deleted, so its version never goes
// back.
//
// Nothing grows with the number of claims: a unit item is a few hundred
// bytes, whatever the partition holds.

// Unit is one held association unit.
type Unit struct {
	TenantID  string `json:"tenantId"`
	ProductID string `json:"productId"`
	// SubscriptionID is empty on a WORKLOAD unit.
	SubscriptionID string    `json:"subscriptionId,omitempty"`
	PartnerID      string    `json:"partnerId"`
	ClaimID        string    `json:"claimId"`
	MPNID          string    `json:"mpnId"`
	Domain         string    `json:"domain"`
	CustomerName   string    `json:"customerName,omitempty"`
	Since          time.Time `json:"since"`
}

// Key is the association key the unit holds.
func (u Unit) Key() claim.AssociationKey {
	return claim.AssociationKey{TenantID: u.TenantID, ProductID: u.ProductID, SubscriptionID: u.SubscriptionID}
}

// Attributes of unit items besides the Unit's own.
const (
	attrHolderPK  = "holderpk"
	attrHolderSK  = "holdersk"
	attrVersion   = "version"
	attrSubUnits  = "subscriptionUnits"
	holderPrefix  = "HOLDER#"
	attrPartnerID = "partnerId"
	attrClaimID   = "claimId"
)

// holderAttrs are the attributes that make a WORKLOAD item held.
var holderAttrs = []string{"partnerId", "claimId", "mpnId", "domain", "customerName", "since", attrHolderPK, attrHolderSK}

func assocPK(partition string) string { return assocPrefix + partition }

// ErrAssociationChanged: a unit or its partition's guard changed between
// read and write (or was not read): read again and decide again.
var ErrAssociationChanged = errors.New("association units changed")

// unitItem is the item of a unit held by c.
func unitItem(c *claim.Claim, k claim.AssociationKey, since time.Time) (map[string]types.AttributeValue, error) {
	u := Unit{
		TenantID: k.TenantID, ProductID: k.ProductID, SubscriptionID: k.SubscriptionID,
		PartnerID: c.PartnerID, ClaimID: c.ID, MPNID: c.MPNID, Domain: c.Customer.Domain,
		CustomerName: c.Customer.Name, Since: since.UTC().Truncate(time.Second),
	}
	item, err := marshal(u)
	if err != nil {
		return nil, fmt.Errorf("marshal unit: %w", err)
	}
	item["since"] = str(u.Since.Format(time.RFC3339))
	item[attrPK] = str(assocPK(k.ItemKey()))
	item[attrSK] = str(k.UnitSK())
	item[attrType] = str(typeAssoc)
	item[attrHolderPK] = str(holderPrefix + c.PartnerID)
	item[attrHolderSK] = str(k.ItemKey() + "#" + k.UnitSK())
	return item, nil
}

func decodeUnit(item map[string]types.AttributeValue) (*Unit, error) {
	var u Unit
	if err := unmarshal(item, &u); err != nil {
		return nil, fmt.Errorf("decode unit: %w", err)
	}
	return &u, nil
}

func strAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func numAttr(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

// Holdings are association items read for some claims: each read item by
// partition and sort key (nil: read, and absent), and the partitions whose
// SUB# units were all read. Finalize reads them once for a page of claims
// (AssociationsOf) and hands them to each approval (Ops, ApprovalOps).
type Holdings struct {
	items map[string]map[string]types.AttributeValue
	full  map[string]bool
}

func itemRef(partition, sk string) string { return partition + "|" + sk }

func (h *Holdings) get(partition, sk string) (map[string]types.AttributeValue, bool) {
	if h == nil {
		return nil, false
	}
	it, ok := h.items[itemRef(partition, sk)]
	return it, ok
}

// covers reports whether h has what deciding keys needs: each partition's
// WORKLOAD item, each subscription's unit, and for a whole-product key every
// SUB# unit of its partition.
func (h *Holdings) covers(keys []claim.AssociationKey) bool {
	if h == nil {
		return false
	}
	for _, k := range keys {
		if _, ok := h.get(k.ItemKey(), claim.WorkloadSK); !ok {
			return false
		}
		if k.SubscriptionID != "" {
			if _, ok := h.get(k.ItemKey(), k.UnitSK()); !ok {
				return false
			}
		} else if !h.full[k.ItemKey()] {
			return false
		}
	}
	return true
}

// holders are the partner holding the partition's whole product ("" for
// nobody) and the holders of its subscriptions that h has read.
func (h *Holdings) holders(partition string) (string, map[string]string) {
	wl, _ := h.get(partition, claim.WorkloadSK)
	subs := map[string]string{}
	prefix := partition + "|" + claim.SubSKPrefix
	for ref, it := range h.items {
		if it != nil && strings.HasPrefix(ref, prefix) {
			subs[strings.TrimPrefix(ref, prefix)] = strAttr(it, attrPartnerID)
		}
	}
	return strAttr(wl, attrPartnerID), subs
}

// conflicting reports whether another partner holds what keys ask for.
func (h *Holdings) conflicting(keys []claim.AssociationKey, partnerID string) bool {
	for _, k := range keys {
		wl, subs := h.holders(k.ItemKey())
		if claim.Conflicts(wl, subs, k, partnerID) {
			return true
		}
	}
	return false
}

// readHoldings reads what deciding claims needs: the WORKLOAD item of each
// partition and each subscription's unit (BatchGetItem, 100 keys a call,
// consistent), then, for a whole-product key of a partition whose WORKLOAD
// item counts SUB# units, those units (one Query of the partition). The
// WORKLOAD item is read before the Query, so a unit added after it was read
// has moved its version and fails the approval's condition.
func (s *Store) readHoldings(ctx context.Context, claims []*claim.Claim) (*Holdings, error) {
	h := &Holdings{items: map[string]map[string]types.AttributeValue{}, full: map[string]bool{}}
	var want []map[string]types.AttributeValue
	wholes := map[string]bool{}
	var wholeOrder []string
	ask := func(partition, sk string) {
		ref := itemRef(partition, sk)
		if _, ok := h.items[ref]; !ok {
			h.items[ref] = nil
			want = append(want, key(assocPK(partition), sk))
		}
	}
	for _, c := range claims {
		for _, k := range claim.AssociationKeys(c) {
			ask(k.ItemKey(), claim.WorkloadSK)
			if k.SubscriptionID != "" {
				ask(k.ItemKey(), k.UnitSK())
			} else if !wholes[k.ItemKey()] {
				wholes[k.ItemKey()] = true
				wholeOrder = append(wholeOrder, k.ItemKey())
			}
		}
	}
	for len(want) > 0 {
		n := min(100, len(want))
		req := map[string]types.KeysAndAttributes{s.table: {Keys: want[:n], ConsistentRead: aws.Bool(true)}}
		want = want[n:]
		for attempt := 0; len(req[s.table].Keys) > 0; attempt++ {
			if attempt > 8 {
				return nil, fmt.Errorf("batch get association units: unprocessed keys remain")
			}
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("batch get association units: %w", err)
			}
			for _, it := range out.Responses[s.table] {
				h.items[itemRef(strings.TrimPrefix(strAttr(it, attrPK), assocPrefix), strAttr(it, attrSK))] = it
			}
			req = out.UnprocessedKeys
		}
	}
	for _, partition := range wholeOrder {
		wl, _ := h.get(partition, claim.WorkloadSK)
		if numAttr(wl, attrSubUnits) > 0 {
			if err := s.readSubUnits(ctx, partition, h); err != nil {
				return nil, err
			}
		}
		h.full[partition] = true
	}
	return h, nil
}

// readSubUnits Queries a partition's SUB# units into h.
func (s *Store) readSubUnits(ctx context.Context, partition string, h *Holdings) error {
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :sub)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(assocPK(partition)), ":sub": str(claim.SubSKPrefix),
		},
		ConsistentRead: aws.Bool(true),
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("query association units: %w", err)
		}
		for _, it := range out.Items {
			h.items[itemRef(partition, strAttr(it, attrSK))] = it
		}
		if out.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Units lists the units held in one tenant's product (one Query of its
// partition), WORKLOAD first.
func (s *Store) Units(ctx context.Context, tenantID, productID string) ([]Unit, error) {
	partition := claim.AssociationKey{TenantID: tenantID, ProductID: productID}.ItemKey()
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(assocPK(partition))},
		ConsistentRead:            aws.Bool(true),
	}
	var units []Unit
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query association units: %w", err)
		}
		for _, it := range out.Items {
			if strAttr(it, attrPartnerID) == "" {
				continue // the partition's guard, held by nobody
			}
			u, err := decodeUnit(it)
			if err != nil {
				return nil, err
			}
			units = append(units, *u)
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	sort.SliceStable(units, func(i, j int) bool { return units[i].SubscriptionID < units[j].SubscriptionID })
	return units, nil
}

// HeldByOther reports whether another partner holds (has an approved
// association for) any workload, product or subscription the claim names.
func (s *Store) HeldByOther(ctx context.Context, c *claim.Claim) (bool, error) {
	h, err := s.readHoldings(ctx, []*claim.Claim{c})
	if err != nil {
		return false, err
	}
	return h.conflicting(claim.AssociationKeys(c), c.PartnerID), nil
}

// ApprovalOps are the writes that give next (the claim moved to Approved
// at at) the units of all its products: as known has them when it covers
// them (units read for a page), else as read now. It fails with
// ErrAssociationHeld when another partner holds any of them; a unit that
// changed since it was read fails its condition with ErrAssociationChanged
// (a lost race: Transition reads again).
func (s *Store) ApprovalOps(ctx context.Context, next *claim.Claim, at time.Time, known *Holdings) ([]Op, error) {
	h := known
	if !known.covers(claim.AssociationKeys(next)) {
		var err error
		if h, err = s.readHoldings(ctx, []*claim.Claim{next}); err != nil {
			return nil, err
		}
	}
	return h.Ops(next, at)
}

// Ops are the writes that give next (the claim moved to Approved at at)
// its units as h has them, without reading. It fails with
// ErrAssociationHeld when another partner holds any of them, and with
// ErrAssociationChanged when h lacks some of them (read them: ApprovalOps).
// A group commit (CommitGroup) packs approvals made of these.
func (h *Holdings) Ops(next *claim.Claim, at time.Time) ([]Op, error) {
	keys := claim.AssociationKeys(next)
	if !h.covers(keys) {
		return nil, ErrAssociationChanged
	}
	if h.conflicting(keys, next.PartnerID) {
		return nil, fmt.Errorf("claim %s: %w", next.ID, ErrAssociationHeld)
	}
	return h.approvalOps(next, at)
}

// approvalOps are the writes that give c its units, as of h: per partition,
// the WORKLOAD item (the held whole product, or the guard) under the
// version read, then each new or re-associated SUB# unit under
// attribute_not_exists(pk) or "already this partner's". One operation per
// item.
func (h *Holdings) approvalOps(c *claim.Claim, since time.Time) ([]Op, error) {
	type part struct {
		whole bool
		subs  []claim.AssociationKey
	}
	parts := map[string]*part{}
	var order []string
	for _, k := range claim.AssociationKeys(c) {
		p, ok := parts[k.ItemKey()]
		if !ok {
			p = &part{}
			parts[k.ItemKey()] = p
			order = append(order, k.ItemKey())
		}
		if k.SubscriptionID == "" {
			p.whole = true
		} else if !containsKey(p.subs, k) {
			p.subs = append(p.subs, k)
		}
	}
	var ops []Op
	for _, partition := range order {
		p := parts[partition]
		old, _ := h.get(partition, claim.WorkloadSK)
		tenant, product, _ := strings.Cut(partition, "#")
		wk := claim.AssociationKey{TenantID: tenant, ProductID: product}
		var subOps []Op
		added := int64(0)
		for _, k := range p.subs {
			item, err := unitItem(c, k, since)
			if err != nil {
				return nil, err
			}
			put := &types.Put{Item: item}
			if cur, _ := h.get(partition, k.UnitSK()); cur == nil {
				put.ConditionExpression = aws.String("attribute_not_exists(pk)")
				added++
			} else {
				put.ConditionExpression = aws.String("partnerId = :me")
				put.ExpressionAttributeValues = map[string]types.AttributeValue{":me": str(c.PartnerID)}
			}
			subOps = append(subOps, Op{Item: types.TransactWriteItem{Put: put}, OnConditionFailed: ErrAssociationChanged})
		}
		var wl map[string]types.AttributeValue
		switch {
		case p.whole:
			var err error
			if wl, err = unitItem(c, wk, since); err != nil {
				return nil, err
			}
		case old != nil:
			wl = make(map[string]types.AttributeValue, len(old))
			for name, v := range old {
				wl[name] = v
			}
		default:
			wl = map[string]types.AttributeValue{
				attrPK: str(assocPK(partition)), attrSK: str(claim.WorkloadSK), attrType: str(typeAssoc),
				"tenantId": str(tenant), "productId": str(product),
			}
		}
		prev := numAttr(old, attrVersion)
		wl[attrVersion] = num(prev + 1)
		wl[attrSubUnits] = num(numAttr(old, attrSubUnits) + added)
		put := &types.Put{Item: wl}
		if old == nil {
			put.ConditionExpression = aws.String("attribute_not_exists(pk)")
		} else {
			put.ConditionExpression = aws.String("version = :v")
			put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(prev)}
		}
		ops = append(ops, Op{Item: types.TransactWriteItem{Put: put}, OnConditionFailed: ErrAssociationChanged})
		ops = append(ops, subOps...)
	}
	return ops, nil
}

func containsKey(keys []claim.AssociationKey, k claim.AssociationKey) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// AssociationsOf reads the units all the claims' approvals need in as few
// calls as DynamoDB allows (BatchGetItem, 100 keys each, consistent reads;
// a Query only for a whole-product claim in a partition that holds
// subscriptions), so deciding a page of claims needs no read per claim.
func (s *Store) AssociationsOf(ctx context.Context, claims []*claim.Claim) (*Holdings, error) {
	return s.readHoldings(ctx, claims)
}

// HeldUnits reads the units the claim holds now: those of its products whose
// item names it (a unit a later claim of the same partner took over is that
// claim's, and is not listed). An ending transaction (disassociate, decline,
// subscription ended) passes them to EndOps.
func (s *Store) HeldUnits(ctx context.Context, c *claim.Claim) ([]Unit, error) {
	h, err := s.readHoldings(ctx, []*claim.Claim{c})
	if err != nil {
		return nil, err
	}
	var units []Unit
	seen := map[claim.AssociationKey]bool{}
	for _, k := range claim.AssociationKeys(c) {
		it, _ := h.get(k.ItemKey(), k.UnitSK())
		if it == nil || seen[k] || strAttr(it, attrClaimID) != c.ID {
			continue
		}
		seen[k] = true
		u, err := decodeUnit(it)
		if err != nil {
			return nil, err
		}
		units = append(units, *u)
	}
	return units, nil
}

// EndOps are the items an ending transaction adds to its Change (Ops) to
// release units read by HeldUnits, all in the claim's own transaction:
// per partition, one Update of the WORKLOAD item (its holder removed when it
// is one of the units, the count of SUB# units lowered, its version moved so
// that an approval read before this commit reads again), and a Delete of
// each SUB# unit; every unit under the condition that it still names its
// claim. A unit taken over meanwhile fails the transaction with
// ErrVersionConflict: read again and retry.
func EndOps(units []Unit) []Op {
	type part struct {
		whole *Unit
		subs  []Unit
	}
	parts := map[string]*part{}
	var order []string
	for i := range units {
		u := units[i]
		partition := u.Key().ItemKey()
		p, ok := parts[partition]
		if !ok {
			p = &part{}
			parts[partition] = p
			order = append(order, partition)
		}
		if u.SubscriptionID == "" {
			p.whole = &u
		} else {
			p.subs = append(p.subs, u)
		}
	}
	var ops []Op
	for _, partition := range order {
		p := parts[partition]
		update := &types.Update{
			Key:                       key(assocPK(partition), claim.WorkloadSK),
			UpdateExpression:          aws.String("ADD version :one, subscriptionUnits :subs"),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":subs": num(-int64(len(p.subs)))},
		}
		if p.whole != nil {
			names := make([]string, len(holderAttrs))
			update.ExpressionAttributeNames = map[string]string{}
			for i, a := range holderAttrs {
				names[i] = "#h" + strconv.Itoa(i)
				update.ExpressionAttributeNames[names[i]] = a
			}
			update.UpdateExpression = aws.String("REMOVE " + strings.Join(names, ", ") + " " + *update.UpdateExpression)
			update.ConditionExpression = aws.String("claimId = :claim")
			update.ExpressionAttributeValues[":claim"] = str(p.whole.ClaimID)
		}
		ops = append(ops, Op{Item: types.TransactWriteItem{Update: update}, OnConditionFailed: ErrVersionConflict})
		for _, u := range p.subs {
			ops = append(ops, Op{Item: types.TransactWriteItem{Delete: &types.Delete{
				Key:                       key(assocPK(partition), u.Key().UnitSK()),
				ConditionExpression:       aws.String("claimId = :claim"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":claim": str(u.ClaimID)},
			}}, OnConditionFailed: ErrVersionConflict})
		}
	}
	return ops
}
