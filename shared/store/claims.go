package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cpor-claims/claims/shared/claim"
)

// Op is one more item of a claim's transaction (a token, an association, an
// idempotency record), with the error to report when its condition fails.
type Op struct {
	Item              types.TransactWriteItem
	OnConditionFailed error
}

// Change is one change of a claim: its new state (version already
// incremented, e.g. by claim.Apply or claim.Touch), the status and version it
// must still have in the table, the history event it records, and any other
// items written in the same transaction.
type Change struct {
	Claim         *claim.Claim
	ExpectStatus  claim.Status
	ExpectVersion int64
	Event         claim.Event
	Ops           []Op
	// Unnotified also requires that the customer's email is not yet marked
	// sent (a re-notification must not race a notification that finished).
	Unnotified bool
}

// Create writes a new claim, its "created" event and the ops (e.g. the
// idempotency record) in one transaction.
func (s *Store) Create(ctx context.Context, c *claim.Claim, ev claim.Event, ops ...Op) error {
	item, err := s.claimItem(c)
	if err != nil {
		return err
	}
	evItem, err := eventItem(c, ev)
	if err != nil {
		return err
	}
	tx := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: &s.table, Item: evItem, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}
	for _, op := range ops {
		tx = append(tx, s.withTable(op.Item))
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	if err == nil {
		return nil
	}
	reasons, ok := cancellationReasons(err)
	if !ok {
		return fmt.Errorf("create claim: %w", err)
	}
	for i, r := range reasons {
		switch code := aws.ToString(r.Code); {
		case code == "TransactionConflict":
			return fmt.Errorf("create claim: %w", ErrVersionConflict)
		case code != "ConditionalCheckFailed":
			continue
		case i < 2:
			return fmt.Errorf("create claim %s: %w", c.ID, ErrAlreadyExists)
		default:
			return opError(ops[i-2])
		}
	}
	return fmt.Errorf("create claim: %w", err)
}

// Get reads one claim.
func (s *Store) Get(ctx context.Context, id string) (*claim.Claim, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            key(claimPK(id), metaSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get claim: %w", err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("claim %s: %w", id, ErrNotFound)
	}
	return decodeClaim(out.Item)
}

// Commit writes a change in ONE TransactWriteItems: the claim, guarded by its
// expected status and version, the history event, and the change's ops.
// Either all are written or none. Refusals are typed from the transaction's
// CancellationReasons: ErrNotFound, ErrVersionConflict, claim.ErrLocked (an
// edit of a claim no longer in the expected status, for updated and
// evidence_added), a *claim.TransitionError (a transition from a status the
// claim no longer has), or the failing op's own error.
func (s *Store) Commit(ctx context.Context, ch Change) error {
	tx, err := s.changeItems(ch)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	if err == nil {
		return nil
	}
	reasons, ok := cancellationReasons(err)
	if !ok {
		return fmt.Errorf("commit %s of claim %s: %w", ch.Event.Action, ch.Claim.ID, err)
	}
	if err := s.changeError(ch, reasons); err != nil {
		return err
	}
	return fmt.Errorf("commit claim %s: %w", ch.Claim.ID, err)
}

// changeError says why a change's items were refused, from their
// CancellationReasons (nil when none of them failed).
func (s *Store) changeError(ch Change, reasons []types.CancellationReason) error {
	for i, r := range reasons {
		switch code := aws.ToString(r.Code); {
		case code == "TransactionConflict":
			return fmt.Errorf("claim %s: %w", ch.Claim.ID, ErrVersionConflict)
		case code != "ConditionalCheckFailed":
			continue
		case i == 0:
			return s.claimConditionError(ch, r.Item)
		case i == 1:
			// The event's key is the new version: someone else wrote it.
			return fmt.Errorf("claim %s: %w", ch.Claim.ID, ErrVersionConflict)
		default:
			return opError(ch.Ops[i-2])
		}
	}
	return nil
}

// Items is how many items the change's transaction writes.
func (ch Change) Items() int { return 2 + len(ch.Ops) }

// changeItems are the change's transaction items: the claim, guarded by
// its expected status and version, the history event, and the ops.
func (s *Store) changeItems(ch Change) ([]types.TransactWriteItem, error) {
	item, err := s.claimItem(ch.Claim)
	if err != nil {
		return nil, err
	}
	evItem, err := eventItem(ch.Claim, ch.Event)
	if err != nil {
		return nil, err
	}
	cond := "#st = :st AND #v = :v"
	if ch.Unnotified {
		cond += " AND attribute_not_exists(customerNotifiedAt)"
	}
	tx := []types.TransactWriteItem{
		{Put: &types.Put{
			TableName:           &s.table,
			Item:                item,
			ConditionExpression: aws.String(cond),
			ExpressionAttributeNames: map[string]string{
				"#st": "status", "#v": "version",
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":st": str(string(ch.ExpectStatus)), ":v": num(ch.ExpectVersion),
			},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		{Put: &types.Put{TableName: &s.table, Item: evItem, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}
	for _, op := range ch.Ops {
		tx = append(tx, s.withTable(op.Item))
	}
	return tx, nil
}

// claimConditionError says why the claim's guard failed, from the item as it
// was when the transaction ran.
func (s *Store) claimConditionError(ch Change, old map[string]types.AttributeValue) error {
	if old == nil {
		return fmt.Errorf("claim %s: %w", ch.Claim.ID, ErrNotFound)
	}
	cur, err := decodeClaim(old)
	if err != nil {
		return err
	}
	if cur.Status != ch.ExpectStatus {
		switch ch.Event.Action {
		case claim.ActionUpdated, claim.ActionEvidenceAdded:
			return fmt.Errorf("claim %s is %s: %w", ch.Claim.ID, cur.Status, claim.ErrLocked)
		}
		return &claim.TransitionError{From: cur.Status, Action: ch.Event.Action}
	}
	return fmt.Errorf("claim %s is at version %d, not %d: %w", ch.Claim.ID, cur.Version, ch.ExpectVersion, ErrVersionConflict)
}

// DeleteDraft discards a Draft and its history. The claim's deletion is
// guarded by status Draft and the version; its history events are removed
// with it.
func (s *Store) DeleteDraft(ctx context.Context, id string, version int64) error {
	sks, err := s.eventSKs(ctx, id)
	if err != nil {
		return err
	}
	del := types.TransactWriteItem{Delete: &types.Delete{
		TableName:                &s.table,
		Key:                      key(claimPK(id), metaSK),
		ConditionExpression:      aws.String("#st = :st AND #v = :v"),
		ExpressionAttributeNames: map[string]string{"#st": "status", "#v": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":st": str(string(claim.StatusDraft)), ":v": num(version),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
	// The claim goes first, with as many events as fit in its transaction;
	// the rest (a very long draft history) follow in batches. An event left
	// by a crash in between belongs to no claim and is never read.
	const maxTx = 100
	tx := []types.TransactWriteItem{del}
	rest := sks
	for len(tx) < maxTx && len(rest) > 0 {
		tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(claimPK(id), rest[0])}})
		rest = rest[1:]
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	if err != nil {
		reasons, ok := cancellationReasons(err)
		if !ok {
			return fmt.Errorf("delete draft: %w", err)
		}
		r := reasons[0]
		switch aws.ToString(r.Code) {
		case "ConditionalCheckFailed":
			return s.claimConditionError(Change{
				Claim: &claim.Claim{ID: id}, ExpectStatus: claim.StatusDraft, ExpectVersion: version,
				Event: claim.Event{Action: claim.ActionUpdated},
			}, r.Item)
		default:
			return fmt.Errorf("delete draft %s: %w", id, ErrVersionConflict)
		}
	}
	return s.deleteEvents(ctx, id, rest)
}

// deleteEvents removes history events of claim id by sort key, 25 a batch.
func (s *Store) deleteEvents(ctx context.Context, id string, sks []string) error {
	for len(sks) > 0 {
		n := min(25, len(sks))
		reqs := make([]types.WriteRequest, 0, n)
		for _, sk := range sks[:n] {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(claimPK(id), sk)}})
		}
		sks = sks[n:]
		pending := map[string][]types.WriteRequest{s.table: reqs}
		for attempt := 0; len(pending[s.table]) > 0; attempt++ {
			if attempt > 8 {
				return fmt.Errorf("batch delete: unprocessed items remain")
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return fmt.Errorf("batch delete: %w", err)
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

func (s *Store) withTable(it types.TransactWriteItem) types.TransactWriteItem {
	switch {
	case it.Put != nil:
		it.Put.TableName = &s.table
	case it.Update != nil:
		it.Update.TableName = &s.table
	case it.Delete != nil:
		it.Delete.TableName = &s.table
	case it.ConditionCheck != nil:
		it.ConditionCheck.TableName = &s.table
	}
	return it
}

func opError(op Op) error {
	if op.OnConditionFailed != nil {
		return op.OnConditionFailed
	}
	return ErrVersionConflict
}

func cancellationReasons(err error) ([]types.CancellationReason, bool) {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return tce.CancellationReasons, true
	}
	return nil, false
}
