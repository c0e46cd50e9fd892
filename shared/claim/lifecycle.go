package claim

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidTransition is wrapped by every refused lifecycle step.
var ErrInvalidTransition = errors.New("invalid transition")

// ErrLocked is returned when a claim that is no longer a Draft is edited.
var ErrLocked = errors.New("claim is locked")

// TransitionError names the refused step; it wraps ErrInvalidTransition.
type TransitionError struct {
	From   Status
	Action Action
	Reason string
}

func (e *TransitionError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("cannot %s a claim in status %s: %s", e.Action, e.From, e.Reason)
	}
	return fmt.Sprintf("cannot %s a claim in status %s", e.Action, e.From)
}

// Unwrap makes errors.Is(err, ErrInvalidTransition) true.
func (e *TransitionError) Unwrap() error { return ErrInvalidTransition }

// Transition is one allowed step of the lifecycle: from a status, through an
// action (which is also the history action recorded), to a status.
type Transition struct {
	From   Status
	Action Action
	To     Status
}

// Transitions is the whole lifecycle (DESIGN.md). Nothing else changes a
// claim's status.
var Transitions = []Transition{
	{StatusDraft, ActionSubmitted, StatusSubmitted},
	{StatusSubmitted, ActionMoreInfoRequested, StatusNeedsInfo},
	{StatusSubmitted, ActionCustomerNotified, StatusPendingCustomer},
	{StatusSubmitted, ActionRejected, StatusRejected},
	{StatusSubmitted, ActionWithdrawn, StatusWithdrawn},
	{StatusNeedsInfo, ActionResponded, StatusSubmitted},
	{StatusNeedsInfo, ActionRejected, StatusRejected},
	{StatusNeedsInfo, ActionWithdrawn, StatusWithdrawn},
	{StatusPendingCustomer, ActionApproved, StatusApproved},
	{StatusPendingCustomer, ActionRejected, StatusRejected},
	{StatusPendingCustomer, ActionOptedOut, StatusOptedOut},
	{StatusPendingCustomer, ActionWithdrawn, StatusWithdrawn},
	{StatusRejected, ActionDisputed, StatusSubmitted},
	// end (v2): an approved association ends, and its units are freed.
	{StatusApproved, ActionDisassociated, StatusEnded},
	{StatusApproved, ActionDeclined, StatusEnded},
	{StatusApproved, ActionSubscriptionEnded, StatusEnded},
}

type stepKey struct {
	from   Status
	action Action
}

var steps = func() map[stepKey]Status {
	m := make(map[stepKey]Status, len(Transitions))
	for _, t := range Transitions {
		m[stepKey{t.From, t.Action}] = t.To
	}
	return m
}()

// Next returns the status that action leads to from status from, or a
// *TransitionError when the lifecycle has no such step.
func Next(from Status, action Action) (Status, error) {
	to, ok := steps[stepKey{from, action}]
	if !ok {
		return "", &TransitionError{From: from, Action: action}
	}
	return to, nil
}

// FromStatuses lists the statuses from which action is allowed.
func FromStatuses(action Action) []Status {
	var out []Status
	for _, t := range Transitions {
		if t.Action == action {
			out = append(out, t.From)
		}
	}
	return out
}

// DisputeWindow is how long after its decision a rejection may be disputed.
const DisputeWindow = 30 * 24 * time.Hour

// CheckDispute says whether c may be disputed at now: Rejected (an opt-out is
// its own status and never disputable) and within DisputeWindow of DecidedAt.
func CheckDispute(c *Claim, now time.Time) error {
	if _, err := Next(c.Status, ActionDisputed); err != nil {
		return err
	}
	if c.StatusReason != nil && c.StatusReason.Code == ReasonOptedOut {
		return &TransitionError{From: c.Status, Action: ActionDisputed, Reason: "the customer opted out"}
	}
	if c.DecidedAt == nil || !now.Before(c.DecidedAt.Add(DisputeWindow)) {
		return &TransitionError{From: c.Status, Action: ActionDisputed, Reason: "the 30-day dispute window has passed"}
	}
	return nil
}

// CheckRespond says whether c may be answered at now (the request's time):
// NeedsInfo and strictly before its RespondBy. At or after the deadline the
// answer is refused even while the scheduled run has not yet rejected the
// claim (no_response): the deadline is the partner's, not the schedule's.
func CheckRespond(c *Claim, now time.Time) error {
	if _, err := Next(c.Status, ActionResponded); err != nil {
		return err
	}
	if c.RespondBy != nil && !now.Before(*c.RespondBy) {
		return &TransitionError{From: c.Status, Action: ActionResponded, Reason: "the respond-by deadline has passed"}
	}
	return nil
}

// Apply moves c to the status action leads to and stamps the times a
// transition sets (and an end's status reason). It returns the history event to record with it. The caller
// persists both in one transaction, guarded by the previous status and
// version (which Apply increments).
func Apply(c *Claim, action Action, actor Actor, now time.Time, detail map[string]string) (Event, error) {
	to, err := Next(c.Status, action)
	if err != nil {
		return Event{}, err
	}
	now = now.UTC()
	if now.Before(c.UpdatedAt) {
		// Clocks differ between the gateway, the worker and the schedule; a
		// claim's history never goes back in time.
		now = c.UpdatedAt
	}
	ev := Event{At: now, Actor: actor, Action: action, FromStatus: c.Status, ToStatus: to, Detail: detail}
	c.Status = to
	c.Version++
	c.UpdatedAt = now
	c.PartnerNotifiedAt = nil // the new status has its own notice, if any
	switch to {
	case StatusSubmitted:
		c.SubmittedAt = &now
		c.StatusReason = nil
		c.RespondBy = nil
		c.OptOutDeadline = nil
		c.CustomerNotifiedAt = nil
		c.DecidedAt = nil
	case StatusApproved, StatusRejected, StatusOptedOut, StatusWithdrawn:
		c.DecidedAt = &now
		c.RespondBy = nil
	case StatusEnded:
		// DecidedAt stays the approval's: Ended records its own time in
		// EndedAt, and the association lasted from one to the other.
		c.EndedAt = &now
		reason := endReasons[action]
		if r := detail["reason"]; action == ActionDisassociated && r != "" {
			// The partner's own reason is the status reason's message.
			reason.Message = r
		}
		c.StatusReason = &reason
	}
	return ev, nil
}

// Terminal reports whether no further transition leaves s (Rejected may
// still be disputed, so it is not terminal).
func (s Status) Terminal() bool {
	for _, t := range Transitions {
		if t.From == s {
			return false
		}
	}
	return true
}

// Touch records a change that keeps the status (updated, evidence_added):
// it bumps the version and the update time and returns the history event.
func Touch(c *Claim, action Action, actor Actor, now time.Time, detail map[string]string) Event {
	now = now.UTC()
	if now.Before(c.UpdatedAt) {
		now = c.UpdatedAt
	}
	c.Version++
	c.UpdatedAt = now
	return Event{At: now, Actor: actor, Action: action, FromStatus: c.Status, ToStatus: c.Status, Detail: detail}
}

// endReasons are the status reasons of the ends of an association.
var endReasons = map[Action]StatusReason{
	ActionDisassociated:     {Code: ReasonPartnerDisassociated, Message: "The partner ended the association."},
	ActionDeclined:          {Code: ReasonCustomerDeclined, Message: "The customer ended the association."},
	ActionSubscriptionEnded: {Code: ReasonSubscriptionEnded, Message: "The customer's subscription ended."},
}

// End moves an Approved claim to Ended through action (disassociated,
// declined or subscription_ended) with that end's status reason (Apply),
// and returns the history event; any other action is refused. The caller
// deletes the claim's association units in the same transaction.
func End(c *Claim, action Action, actor Actor, now time.Time, detail map[string]string) (Event, error) {
	if !Ends(action) {
		return Event{}, &TransitionError{From: c.Status, Action: action, Reason: "not an end of an association"}
	}
	return Apply(c, action, actor, now, detail)
}

// Ends reports whether action ends an approved association.
func Ends(action Action) bool {
	_, ok := endReasons[action]
	return ok
}
