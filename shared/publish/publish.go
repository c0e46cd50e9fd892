// Package publish is PublishFunction: it reads the table's stream (the
// outbox: every transition writes its history item in its own transaction)
// and puts one "Claim Status Changed" event per status-changing history
// item on the claims bus.
package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/store"
)

// Source and DetailType of the events (API.md "Events and webhooks").
const (
	Source     = "cpor.claims"
	DetailType = "Claim Status Changed"
)

// MaxEntries is PutEvents' limit of entries per call.
const MaxEntries = 10

// EventBridge is the part of EventBridge the publisher uses.
type EventBridge interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Detail is the event's detail (API.md).
type Detail struct {
	SchemaVersion string              `json:"schemaVersion"`
	EventID       string              `json:"eventId"`
	ClaimID       string              `json:"claimId"`
	PartnerID     string              `json:"partnerId"`
	MpnID         string              `json:"mpnId"`
	TenantID      string              `json:"tenantId"`
	FromStatus    *claim.Status       `json:"fromStatus"`
	ToStatus      claim.Status        `json:"toStatus"`
	StatusReason  *claim.StatusReason `json:"statusReason"`
	Version       int64               `json:"version"`
	At            string              `json:"at"`
}

// NewDetail is the detail of one outbox event.
func NewDetail(ev store.OutboxEvent) Detail {
	d := Detail{SchemaVersion: "1", EventID: ev.EventID, ClaimID: ev.ClaimID, PartnerID: ev.PartnerID,
		MpnID: ev.MpnID, TenantID: ev.TenantID, ToStatus: ev.ToStatus, StatusReason: ev.StatusReason,
		Version: ev.Version, At: ev.At.UTC().Format(time.RFC3339Nano)}
	if ev.FromStatus != "" {
		from := ev.FromStatus
		d.FromStatus = &from
	}
	return d
}

// Publisher is the handler.
type Publisher struct {
	Bus    EventBridge
	BusARN string // the bus's name or ARN (EVENT_BUS_NAME)
	// Attempts bounds the PutEvents calls for one chunk (failed entries
	// are put again); then the chunk's first failed record is reported.
	Attempts int
	Backoff  time.Duration // before the second attempt, doubled after each
	Log      *slog.Logger
}

type pending struct {
	record int // index of its stream record
	entry  ebtypes.PutEventsRequestEntry
	claim  string
}

// Handle puts the batch's events in stream order. Chunks hold at most
// MaxEntries entries and at most one of each claim, so that retrying a
// chunk's failed entries never reorders a claim's events. A record whose
// event cannot be put (after the retries) is reported in
// batchItemFailures, and nothing after it is put: Lambda (and the local
// runner) deliver the batch again from that record, so events are neither
// dropped nor reordered; an event of the failed chunk that did get through
// is put again (consumers de-duplicate by eventId).
func (p *Publisher) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var all []pending
	for i, rec := range ev.Records {
		if rec.EventName != string(events.DynamoDBOperationTypeInsert) || rec.Change.NewImage == nil {
			continue
		}
		item, err := FromStreamImage(rec.Change.NewImage)
		if err != nil {
			return p.fail(ev, i, err), nil
		}
		oe, ok, err := store.DecodeOutbox(item)
		if err != nil {
			return p.fail(ev, i, err), nil
		}
		if !ok {
			continue
		}
		detail, _ := json.Marshal(NewDetail(oe))
		at := oe.At
		all = append(all, pending{record: i, claim: oe.ClaimID, entry: ebtypes.PutEventsRequestEntry{
			EventBusName: aws.String(p.BusARN), Source: aws.String(Source), DetailType: aws.String(DetailType),
			Detail: aws.String(string(detail)), Time: &at, Resources: []string{"claim/" + oe.ClaimID},
		}})
	}
	for len(all) > 0 {
		chunk := nextChunk(all)
		all = all[len(chunk):]
		if failed, err := p.put(ctx, chunk); err != nil {
			return p.fail(ev, failed, err), nil
		}
	}
	return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}, nil
}

// nextChunk is the longest prefix of at most MaxEntries entries with no
// claim twice.
func nextChunk(all []pending) []pending {
	seen := map[string]bool{}
	n := 0
	for n < len(all) && n < MaxEntries && !seen[all[n].claim] {
		seen[all[n].claim] = true
		n++
	}
	return all[:n]
}

// put puts a chunk, putting failed entries again. On giving up it returns
// the index of the earliest record not put.
func (p *Publisher) put(ctx context.Context, chunk []pending) (int, error) {
	attempts := max(p.Attempts, 1)
	wait := p.Backoff
	var lastErr error
	for attempt := 1; ; attempt++ {
		entries := make([]ebtypes.PutEventsRequestEntry, len(chunk))
		for i, c := range chunk {
			entries[i] = c.entry
		}
		out, err := p.Bus.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		if err == nil && out.FailedEntryCount == 0 {
			return 0, nil
		}
		if err == nil {
			var left []pending
			for i, e := range out.Entries {
				if e.ErrorCode != nil && i < len(chunk) {
					left = append(left, chunk[i])
					lastErr = fmt.Errorf("PutEvents entry of claim %s: %s: %s", chunk[i].claim, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
				}
			}
			if len(out.Entries) != len(chunk) {
				left, lastErr = chunk, fmt.Errorf("PutEvents answered %d entries for %d", len(out.Entries), len(chunk))
			}
			chunk = left
		} else {
			lastErr = err
		}
		if attempt >= attempts || ctx.Err() != nil {
			break
		}
		p.Log.WarnContext(ctx, "PutEvents failed; putting the failed entries again", "entries", len(chunk), "attempt", attempt, "error", lastErr)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait *= 2
	}
	first := chunk[0].record
	for _, c := range chunk {
		first = min(first, c.record)
	}
	return first, errors.Join(lastErr, ctx.Err())
}

func (p *Publisher) fail(ev events.DynamoDBEvent, i int, err error) events.DynamoDBEventResponse {
	seq := ev.Records[i].Change.SequenceNumber
	p.Log.Error("publishing stopped; the stream delivers again from this record", "sequenceNumber", seq, "error", err)
	return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: seq}}}
}

// FromStreamImage converts a stream record's image (Lambda's JSON form) to
// the SDK's attribute values.
func FromStreamImage(img map[string]events.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(img))
	for k, v := range img {
		av, err := fromStream(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func fromStream(v events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		var l []types.AttributeValue
		for _, x := range v.List() {
			av, err := fromStream(x)
			if err != nil {
				return nil, err
			}
			l = append(l, av)
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case events.DataTypeMap:
		m, err := FromStreamImage(v.Map())
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("unknown attribute type %v", v.DataType())
}
