package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cpor-claims/claims/shared/claim"
)

// Group commit (DESIGN.md "Finalize: group commit"): many changes in one
// TransactWriteItems. DynamoDB Local runs transactions one at a time, and
// on AWS each one is a round trip, so finalize commits its decisions many
// per transaction.

// MaxGroupItems is the most items one TransactWriteItems may write.
const MaxGroupItems = 100

// CommitGroup commits changes (at most MaxGroupItems items in all, no item
// written by two of them: the caller keeps changes that touch one
// association partition in different groups) in as few transactions as
// their conditions allow, and returns each change's error (nil: committed).
//
// A cancelled transaction is split by its CancellationReasons: a change
// whose item failed gets the error Commit would give it (a lost race:
// ErrVersionConflict or a *claim.TransitionError; units changed since they
// were read: ErrAssociationChanged, to be decided again alone), and the
// others are committed again without it. A transaction that fails without
// reasons (the request itself refused) is split in halves until the change
// that fails is alone, so one bad change costs a few more calls, never the
// others' decisions.
func (s *Store) CommitGroup(ctx context.Context, changes []Change) []error {
	errs := make([]error, len(changes))
	items := make([][]types.TransactWriteItem, len(changes))
	var pending []int
	n := 0
	for i, ch := range changes {
		tx, err := s.changeItems(ch)
		if err != nil {
			errs[i] = err
			continue
		}
		items[i] = tx
		n += len(tx)
		pending = append(pending, i)
	}
	if n > MaxGroupItems {
		err := fmt.Errorf("a group of %d items: at most %d", n, MaxGroupItems)
		for _, i := range pending {
			errs[i] = err
		}
		return errs
	}
	fail := func(i int, reasons []types.CancellationReason) error {
		if err := s.changeError(changes[i], reasons); err != nil {
			return err
		}
		for _, r := range reasons {
			if code := aws.ToString(r.Code); code != "" && code != "None" {
				return fmt.Errorf("claim %s: %s: %s", changes[i].Claim.ID, code, aws.ToString(r.Message))
			}
		}
		return nil
	}
	s.commitGroup(ctx, items, pending, errs, fail)
	return errs
}

// commitGroup writes the members' items in one transaction and splits it
// as CommitGroup says, setting errs of the members that failed.
func (s *Store) commitGroup(ctx context.Context, items [][]types.TransactWriteItem, members []int, errs []error,
	fail func(i int, reasons []types.CancellationReason) error) {
	for len(members) > 0 {
		var tx []types.TransactWriteItem
		for _, i := range members {
			tx = append(tx, items[i]...)
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
		if err == nil {
			return
		}
		reasons, ok := cancellationReasons(err)
		if !ok || len(reasons) != len(tx) {
			if len(members) == 1 || ctx.Err() != nil {
				for _, i := range members {
					errs[i] = fmt.Errorf("commit: %w", err)
				}
				return
			}
			half := len(members) / 2
			s.commitGroup(ctx, items, members[:half], errs, fail)
			s.commitGroup(ctx, items, members[half:], errs, fail)
			return
		}
		var rest []int
		at := 0
		for _, i := range members {
			mine := reasons[at : at+len(items[i])]
			at += len(items[i])
			if err := fail(i, mine); err != nil {
				errs[i] = err
			} else {
				rest = append(rest, i)
			}
		}
		if len(rest) == len(members) {
			// Cancelled, yet no member's item failed: no way to split.
			for _, i := range members {
				errs[i] = fmt.Errorf("commit: %w", err)
			}
			return
		}
		members = rest
	}
}

// MarkPartnersNotified is MarkPartnerNotified for many claims, at most
// MaxGroupItems per TransactWriteItems, split like CommitGroup: a claim
// that moved on or was marked already gets ErrVersionConflict and the
// others are marked. It returns each claim's error.
func (s *Store) MarkPartnersNotified(ctx context.Context, cs []*claim.Claim, at time.Time) []error {
	errs := make([]error, len(cs))
	at = at.UTC()
	for start := 0; start < len(cs); start += MaxGroupItems {
		end := min(len(cs), start+MaxGroupItems)
		items := make([][]types.TransactWriteItem, end-start)
		members := make([]int, 0, end-start)
		for i, c := range cs[start:end] {
			in := s.partnerNotifiedUpdate(c, at)
			items[i] = []types.TransactWriteItem{{Update: &types.Update{
				TableName: in.TableName, Key: in.Key, UpdateExpression: in.UpdateExpression,
				ConditionExpression: in.ConditionExpression, ExpressionAttributeNames: in.ExpressionAttributeNames,
				ExpressionAttributeValues: in.ExpressionAttributeValues,
			}}}
			members = append(members, i)
		}
		groupErrs := make([]error, len(items))
		s.commitGroup(ctx, items, members, groupErrs, func(i int, reasons []types.CancellationReason) error {
			switch code := aws.ToString(reasons[0].Code); code {
			case "", "None":
				return nil
			case "ConditionalCheckFailed", "TransactionConflict":
				return fmt.Errorf("claim %s: %w", cs[start+i].ID, ErrVersionConflict)
			default:
				return fmt.Errorf("claim %s: %s: %s", cs[start+i].ID, code, aws.ToString(reasons[0].Message))
			}
		})
		for i, err := range groupErrs {
			errs[start+i] = err
			if err == nil {
				cs[start+i].PartnerNotifiedAt = &at
			}
		}
	}
	return errs
}

// IsLostRace reports whether a change failed because the claim or its
// units changed since they were read: someone else decided, or the
// decision must be made again.
func IsLostRace(err error) bool {
	return errors.Is(err, ErrVersionConflict) || errors.Is(err, claim.ErrInvalidTransition)
}
