package store

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cpor-claims/claims/shared/claim"
)

// Attribute names of the single table (template.yaml).
const (
	attrPK        = "pk"
	attrSK        = "sk"
	attrGSI1PK    = "gsi1pk"
	attrGSI1SK    = "gsi1sk"
	attrDuePK     = "duepk"
	attrDueSK     = "duesk"
	attrType      = "itemType"
	attrExpiresAt = "expiresAt"
)

// Item types.
const (
	typeClaim = "claim"
	typeEvent = "event"
	typeAssoc = "association"
	typeToken = "token"
	typeIdemp = "idempotency"
)

// The claim and the event are stored under their API field names.
func jsonTags(o *attributevalue.EncoderOptions) { o.TagKey = "json" }
func jsonTagsDec(o *attributevalue.DecoderOptions) {
	o.TagKey = "json"
}

func marshal(v any) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMapWithOptions(v, jsonTags)
}

func unmarshal(item map[string]types.AttributeValue, v any) error {
	return attributevalue.UnmarshalMapWithOptions(item, v, jsonTagsDec)
}

func str(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(v)}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}

// dueAt is when a claim needs the scheduled run: the opt-out deadline, the
// respond-by date, (Submitted) when its validation job is overdue and must
// be queued again, or when a partner notice not confirmed sent is overdue.
// Other claims are not in the index.
func (s *Store) dueAt(c *claim.Claim) (time.Time, bool) {
	due, ok := s.statusDueAt(c)
	if claim.NeedsPartnerNotice(c) && c.PartnerNotifiedAt == nil {
		// The partner's email about this status is not confirmed sent: the
		// scheduled run sends it if it is still not sent by then.
		if notice := c.UpdatedAt.Add(s.requeueAfter); !ok || notice.Before(due) {
			return notice, true
		}
	}
	return due, ok
}

func (s *Store) statusDueAt(c *claim.Claim) (time.Time, bool) {
	switch c.Status {
	case claim.StatusPendingCustomer:
		if c.CustomerNotifiedAt == nil {
			// The email is not confirmed sent: the job is queued again
			// rather than deciding a claim the customer never saw.
			return c.UpdatedAt.Add(s.requeueAfter), true
		}
		if c.OptOutDeadline != nil {
			return *c.OptOutDeadline, true
		}
	case claim.StatusNeedsInfo:
		if c.RespondBy != nil {
			return *c.RespondBy, true
		}
	case claim.StatusSubmitted:
		return c.UpdatedAt.Add(s.requeueAfter), true
	}
	return time.Time{}, false
}

// claimItem is the claim's item with its keys and derived index attributes.
// The due-deadline keys are derived from the status on every write, so they
// cannot go stale.
func (s *Store) claimItem(c *claim.Claim) (map[string]types.AttributeValue, error) {
	item, err := marshal(c)
	if err != nil {
		return nil, fmt.Errorf("marshal claim: %w", err)
	}
	item[attrPK] = str(claimPK(c.ID))
	item[attrSK] = str(metaSK)
	item[attrType] = str(typeClaim)
	item[attrGSI1PK] = str(partnerPrefix + c.PartnerID)
	item[attrGSI1SK] = str(fmtKeyTime(c.CreatedAt) + "#" + c.ID)
	if due, ok := s.dueAt(c); ok {
		item[attrDuePK] = str(dueShardPK(s.shardOf(c.ID)))
		item[attrDueSK] = str(fmtKeyTime(due) + "#" + c.ID)
	}
	return item, nil
}

func decodeClaim(item map[string]types.AttributeValue) (*claim.Claim, error) {
	var c claim.Claim
	if err := unmarshal(item, &c); err != nil {
		return nil, fmt.Errorf("decode claim: %w", err)
	}
	if c.Products == nil {
		c.Products = []claim.ProductRef{}
	}
	if c.Evidence == nil {
		c.Evidence = []claim.Evidence{}
	}
	return &c, nil
}

func eventItem(c *claim.Claim, ev claim.Event) (map[string]types.AttributeValue, error) {
	item, err := marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("marshal event: %w", err)
	}
	item[attrPK] = str(claimPK(c.ID))
	item[attrSK] = str(eventSK(ev, c.Version))
	item[attrType] = str(typeEvent)
	item["version"] = num(c.Version)
	// The outbox (docs/design.md "Events out"): what the claim's
	// "Claim Status Changed" event needs, written in the transition's own
	// transaction so the table's stream carries it to PublishFunction.
	item[attrEventID] = str(EventID(c.ID, c.Version))
	item["claimId"] = str(c.ID)
	item["partnerId"] = str(c.PartnerID)
	item["mpnId"] = str(c.MPNID)
	item["tenantId"] = str(c.Customer.TenantID)
	if c.StatusReason != nil {
		reason, err := marshal(c.StatusReason)
		if err != nil {
			return nil, fmt.Errorf("marshal status reason: %w", err)
		}
		item["statusReason"] = &types.AttributeValueMemberM{Value: reason}
	}
	return item, nil
}

const attrEventID = "eventId"

// EventID is the stable id of a claim's history event: the claim and the
// version its transition produced (each transition increments the version
// once). Consumers de-duplicate redelivered events by it.
func EventID(claimID string, version int64) string {
	return fmt.Sprintf("%s-v%d", claimID, version)
}

// OutboxEvent is a history item as the table's stream carries it: the
// event and the claim's fields a "Claim Status Changed" event needs.
type OutboxEvent struct {
	claim.Event
	EventID      string              `json:"eventId"`
	ClaimID      string              `json:"claimId"`
	PartnerID    string              `json:"partnerId"`
	MpnID        string              `json:"mpnId"`
	TenantID     string              `json:"tenantId"`
	StatusReason *claim.StatusReason `json:"statusReason"`
	Version      int64               `json:"version"`
}

// DecodeOutbox reads a stream image. ok is false for any item that is not
// a claim's history event, or an event that changes no status.
func DecodeOutbox(item map[string]types.AttributeValue) (ev OutboxEvent, ok bool, err error) {
	pk, _ := item[attrPK].(*types.AttributeValueMemberS)
	sk, _ := item[attrSK].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil || !strings.HasPrefix(pk.Value, claimPrefix) || !strings.HasPrefix(sk.Value, eventPrefix) {
		return ev, false, nil
	}
	if err := unmarshal(item, &ev); err != nil {
		return ev, false, fmt.Errorf("decode history event %s %s: %w", pk.Value, sk.Value, err)
	}
	if ev.ClaimID == "" {
		ev.ClaimID = strings.TrimPrefix(pk.Value, claimPrefix)
	}
	if ev.EventID == "" {
		ev.EventID = EventID(ev.ClaimID, ev.Version)
	}
	return ev, ev.ToStatus != "" && ev.FromStatus != ev.ToStatus, nil
}
