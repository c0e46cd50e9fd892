package claim

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var allActions = []Action{
	ActionCreated, ActionUpdated, ActionEvidenceAdded, ActionSubmitted, ActionMoreInfoRequested,
	ActionResponded, ActionCustomerNotified, ActionOptedOut, ActionApproved, ActionRejected,
	ActionWithdrawn, ActionDisputed, ActionDisassociated, ActionDeclined, ActionSubscriptionEnded,
}

// lifecycle is DESIGN.md's diagram, written out independently of Transitions.
var lifecycle = map[Status]map[Action]Status{
	StatusDraft: {ActionSubmitted: StatusSubmitted},
	StatusSubmitted: {
		ActionMoreInfoRequested: StatusNeedsInfo, ActionCustomerNotified: StatusPendingCustomer,
		ActionRejected: StatusRejected, ActionWithdrawn: StatusWithdrawn,
	},
	StatusNeedsInfo: {ActionResponded: StatusSubmitted, ActionRejected: StatusRejected, ActionWithdrawn: StatusWithdrawn},
	StatusPendingCustomer: {
		ActionApproved: StatusApproved, ActionRejected: StatusRejected,
		ActionOptedOut: StatusOptedOut, ActionWithdrawn: StatusWithdrawn,
	},
	StatusRejected: {ActionDisputed: StatusSubmitted},
	StatusApproved: {ActionDisassociated: StatusEnded, ActionDeclined: StatusEnded, ActionSubscriptionEnded: StatusEnded},
}

func TestNextFollowsTheLifecycle(t *testing.T) {
	allowed := 0
	for _, from := range append(slices.Clone(Statuses), "Bogus", "") {
		for _, a := range append(slices.Clone(allActions), "bogus") {
			to, err := Next(from, a)
			want, ok := lifecycle[from][a]
			if ok {
				allowed++
				if err != nil || to != want {
					t.Errorf("%s --%s--> %q, %v; want %s", from, a, to, err, want)
				}
				continue
			}
			var te *TransitionError
			if !errors.Is(err, ErrInvalidTransition) || !errors.As(err, &te) || te.From != from || te.Action != a || to != "" {
				t.Errorf("%s --%s--> %q, %v; want a *TransitionError wrapping ErrInvalidTransition", from, a, to, err)
			}
		}
	}
	if allowed != len(Transitions) {
		t.Errorf("the table has %d steps, the lifecycle %d", len(Transitions), allowed)
	}
}

func TestFromStatuses(t *testing.T) {
	cases := []struct {
		action Action
		want   []Status
	}{
		{ActionWithdrawn, []Status{StatusSubmitted, StatusNeedsInfo, StatusPendingCustomer}},
		{ActionRejected, []Status{StatusSubmitted, StatusNeedsInfo, StatusPendingCustomer}},
		{ActionDisputed, []Status{StatusRejected}},
		{ActionSubmitted, []Status{StatusDraft}},
		{ActionUpdated, nil},
		{ActionDeclined, []Status{StatusApproved}},
	}
	for _, tc := range cases {
		if got := FromStatuses(tc.action); !slices.Equal(got, tc.want) {
			t.Errorf("FromStatuses(%s) = %v, want %v", tc.action, got, tc.want)
		}
	}
}

func TestStatusValidAndTerminal(t *testing.T) {
	terminal := map[Status]bool{
		StatusDraft: false, StatusSubmitted: false, StatusNeedsInfo: false, StatusPendingCustomer: false,
		StatusOptedOut: true, StatusApproved: false, StatusRejected: false, StatusWithdrawn: true,
		StatusEnded: true,
	}
	if len(terminal) != len(Statuses) {
		t.Fatalf("statuses %v", Statuses)
	}
	for _, s := range Statuses {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
		if s.Terminal() != terminal[s] {
			t.Errorf("%s.Terminal() = %v", s, s.Terminal())
		}
	}
	for _, s := range []Status{"", "draft", "Pending"} {
		if s.Valid() {
			t.Errorf("%q valid", s)
		}
	}
}

func TestApply(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	old := t0.Add(-48 * time.Hour)
	deadline := t0.Add(72 * time.Hour)
	cases := []struct {
		name       string
		from       Status
		action     Action
		to         Status
		submitted  bool // SubmittedAt set to now
		decided    bool // DecidedAt set to now (false: as before or cleared, see cleared)
		cleared    bool // statusReason, respondBy, optOutDeadline, customerNotifiedAt, decidedAt cleared
		respondBy  bool // respondBy kept
		optOutKept bool
	}{
		{name: "submit", from: StatusDraft, action: ActionSubmitted, to: StatusSubmitted, submitted: true, cleared: true},
		{name: "respond", from: StatusNeedsInfo, action: ActionResponded, to: StatusSubmitted, submitted: true, cleared: true},
		{name: "dispute", from: StatusRejected, action: ActionDisputed, to: StatusSubmitted, submitted: true, cleared: true},
		{name: "request more info", from: StatusSubmitted, action: ActionMoreInfoRequested, to: StatusNeedsInfo, respondBy: true, optOutKept: true},
		{name: "notify the customer", from: StatusSubmitted, action: ActionCustomerNotified, to: StatusPendingCustomer, respondBy: true, optOutKept: true},
		{name: "approve", from: StatusPendingCustomer, action: ActionApproved, to: StatusApproved, decided: true, optOutKept: true},
		{name: "opt out", from: StatusPendingCustomer, action: ActionOptedOut, to: StatusOptedOut, decided: true, optOutKept: true},
		{name: "reject for no response", from: StatusNeedsInfo, action: ActionRejected, to: StatusRejected, decided: true, optOutKept: true},
		{name: "withdraw", from: StatusNeedsInfo, action: ActionWithdrawn, to: StatusWithdrawn, decided: true, optOutKept: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &Claim{
				Status: tc.from, Version: 7, UpdatedAt: t0, SubmittedAt: &old, DecidedAt: &old,
				RespondBy: &deadline, OptOutDeadline: &deadline, CustomerNotifiedAt: &old,
				StatusReason: &StatusReason{Code: ReasonConflict},
			}
			actor := Actor{Type: ActorPartner, ID: "user-1"}
			// A non-UTC "now" is stored in UTC.
			ev, err := Apply(c, tc.action, actor, t1.In(time.FixedZone("PST", -8*3600)), map[string]string{"k": "v"})
			if err != nil {
				t.Fatal(err)
			}
			want := Event{At: t1, Actor: actor, Action: tc.action, FromStatus: tc.from, ToStatus: tc.to, Detail: map[string]string{"k": "v"}}
			if !reflect.DeepEqual(ev, want) || ev.At.Location() != time.UTC {
				t.Errorf("event %+v, want %+v", ev, want)
			}
			if c.Status != tc.to || c.Version != 8 || !c.UpdatedAt.Equal(t1) || c.UpdatedAt.Location() != time.UTC {
				t.Errorf("status %s version %d updated %s", c.Status, c.Version, c.UpdatedAt)
			}
			checkTime(t, "submittedAt", c.SubmittedAt, pick(tc.submitted, &t1, &old))
			switch {
			case tc.decided:
				checkTime(t, "decidedAt", c.DecidedAt, &t1)
			case tc.cleared:
				checkTime(t, "decidedAt", c.DecidedAt, nil)
			default:
				checkTime(t, "decidedAt", c.DecidedAt, &old)
			}
			checkTime(t, "respondBy", c.RespondBy, pick(tc.respondBy, &deadline, nil))
			checkTime(t, "optOutDeadline", c.OptOutDeadline, pick(tc.optOutKept, &deadline, nil))
			checkTime(t, "customerNotifiedAt", c.CustomerNotifiedAt, pick(tc.cleared, nil, &old))
			if (c.StatusReason == nil) != tc.cleared {
				t.Errorf("statusReason %+v", c.StatusReason)
			}
		})
	}
}

func pick(cond bool, a, b *time.Time) *time.Time {
	if cond {
		return a
	}
	return b
}

func checkTime(t *testing.T, name string, got, want *time.Time) {
	t.Helper()
	switch {
	case want == nil && got != nil:
		t.Errorf("%s = %s, want none", name, got)
	case want != nil && (got == nil || !got.Equal(*want)):
		t.Errorf("%s = %v, want %s", name, got, want)
	}
}

func TestApplyNeverGoesBackInTime(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	c := &Claim{Status: StatusSubmitted, Version: 2, UpdatedAt: t0}
	ev, err := Apply(c, ActionRejected, Actor{Type: ActorSystem, ID: "validate"}, t0.Add(-time.Minute), nil)
	if err != nil || !ev.At.Equal(t0) || !c.UpdatedAt.Equal(t0) || !c.DecidedAt.Equal(t0) {
		t.Fatalf("event at %s, updated %s, decided %v, %v", ev.At, c.UpdatedAt, c.DecidedAt, err)
	}
}

func TestApplyRefusedChangesNothing(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	c := &Claim{Status: StatusApproved, Version: 5, UpdatedAt: t0, DecidedAt: &t0}
	before := *c
	ev, err := Apply(c, ActionWithdrawn, Actor{Type: ActorPartner, ID: "u"}, t0.Add(time.Hour), nil)
	if !errors.Is(err, ErrInvalidTransition) || !reflect.DeepEqual(ev, Event{}) || !reflect.DeepEqual(*c, before) {
		t.Fatalf("err %v, event %+v, claim %+v", err, ev, c)
	}
}

func TestTouch(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	c := &Claim{Status: StatusDraft, Version: 1, UpdatedAt: t0}
	ev := Touch(c, ActionUpdated, Actor{Type: ActorPartner, ID: "u"}, t0.Add(time.Second), map[string]string{"fields": "name"})
	if c.Version != 2 || c.Status != StatusDraft || !c.UpdatedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("claim %+v", c)
	}
	if ev.Action != ActionUpdated || ev.FromStatus != StatusDraft || ev.ToStatus != StatusDraft || ev.Detail["fields"] != "name" {
		t.Errorf("event %+v", ev)
	}
	ev = Touch(c, ActionEvidenceAdded, Actor{Type: ActorPartner, ID: "u"}, t0, nil)
	if c.Version != 3 || !ev.At.Equal(t0.Add(time.Second)) {
		t.Errorf("a late clock moved history back: %s", ev.At)
	}
}

func TestCheckDispute(t *testing.T) {
	decided := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	rejected := func(code string) *Claim {
		c := &Claim{Status: StatusRejected, DecidedAt: &decided}
		if code != "" {
			c.StatusReason = &StatusReason{Code: code}
		}
		return c
	}
	day := 24 * time.Hour
	cases := []struct {
		name string
		c    *Claim
		at   time.Duration // after decidedAt
		ok   bool
		why  string // part of the refusal's message
	}{
		{"conflict, at once", rejected(ReasonConflict), 0, true, ""},
		{"conflict, at 29 days 23 hours", rejected(ReasonConflict), 29*day + 23*time.Hour, true, ""},
		{"conflict, a nanosecond before 30 days", rejected(ReasonConflict), 30*day - 1, true, ""},
		{"conflict, at 30 days", rejected(ReasonConflict), 30 * day, false, "30-day"},
		{"conflict, at 31 days", rejected(ReasonConflict), 31 * day, false, "30-day"},
		{"no response", rejected(ReasonNoResponse), day, true, ""},
		{"evidence invalid", rejected(ReasonEvidenceInvalid), day, true, ""},
		{"tenant/domain mismatch", rejected(ReasonTenantDomainMismatch), day, true, ""},
		{"no reason recorded", rejected(""), day, true, ""},
		{"opted-out reason", rejected(ReasonOptedOut), time.Hour, false, "opted out"},
		{"no decision time", &Claim{Status: StatusRejected}, 0, false, "30-day"},
		{"OptedOut status", &Claim{Status: StatusOptedOut, DecidedAt: &decided}, time.Hour, false, ""},
		{"Approved", &Claim{Status: StatusApproved, DecidedAt: &decided}, time.Hour, false, ""},
		{"Withdrawn", &Claim{Status: StatusWithdrawn, DecidedAt: &decided}, time.Hour, false, ""},
		{"Submitted", &Claim{Status: StatusSubmitted}, 0, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckDispute(tc.c, decided.Add(tc.at))
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidTransition) {
				t.Fatalf("got %v, want ErrInvalidTransition", err)
			}
			if !strings.Contains(err.Error(), tc.why) || !strings.Contains(err.Error(), string(ActionDisputed)) {
				t.Errorf("message %q lacks %q", err, tc.why)
			}
		})
	}
}

func TestTransitionErrorMessage(t *testing.T) {
	cases := []struct {
		err  *TransitionError
		want []string
	}{
		{&TransitionError{From: StatusDraft, Action: ActionWithdrawn}, []string{"Draft", "withdrawn"}},
		{&TransitionError{From: StatusRejected, Action: ActionDisputed, Reason: "the customer opted out"},
			[]string{"Rejected", "disputed", ": the customer opted out"}},
	}
	for _, tc := range cases {
		for _, w := range tc.want {
			if !strings.Contains(tc.err.Error(), w) {
				t.Errorf("%q lacks %q", tc.err.Error(), w)
			}
		}
	}
}

func TestCheckRespond(t *testing.T) {
	by := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	needsInfo := &Claim{Status: StatusNeedsInfo, RespondBy: &by}
	cases := []struct {
		name string
		c    *Claim
		at   time.Time
		ok   bool
	}{
		{"a day before", needsInfo, by.Add(-24 * time.Hour), true},
		{"a nanosecond before", needsInfo, by.Add(-1), true},
		{"at the deadline", needsInfo, by, false},
		{"after the deadline", needsInfo, by.Add(time.Minute), false},
		{"Submitted", &Claim{Status: StatusSubmitted}, by.Add(-time.Hour), false},
		{"Draft", &Claim{Status: StatusDraft}, by.Add(-time.Hour), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckRespond(tc.c, tc.at)
			if tc.ok != (err == nil) {
				t.Fatalf("got %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidTransition) {
				t.Fatalf("%v is not an invalid transition", err)
			}
		})
	}
	if err := CheckRespond(needsInfo, by); !strings.Contains(err.Error(), "respond-by") {
		t.Errorf("message %q", err)
	}
}

func TestEndSetsTheReasonAndKeepsTheApprovalDate(t *testing.T) {
	approved := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	now := approved.Add(72 * time.Hour)
	cases := map[Action]string{
		ActionDisassociated:     ReasonPartnerDisassociated,
		ActionDeclined:          ReasonCustomerDeclined,
		ActionSubscriptionEnded: ReasonSubscriptionEnded,
	}
	for action, code := range cases {
		c := &Claim{Status: StatusApproved, Version: 4, UpdatedAt: approved, DecidedAt: &approved,
			StatusReason: nil, PartnerNotifiedAt: &approved}
		ev, err := End(c, action, Actor{Type: ActorCustomer}, now, nil)
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		if c.Status != StatusEnded || c.StatusReason == nil || c.StatusReason.Code != code || c.Version != 5 {
			t.Errorf("%s: claim %+v", action, c)
		}
		if !c.DecidedAt.Equal(approved) || c.EndedAt == nil || !c.EndedAt.Equal(now) || c.PartnerNotifiedAt != nil {
			t.Errorf("%s: decidedAt %v endedAt %v partnerNotifiedAt %v", action, c.DecidedAt, c.EndedAt, c.PartnerNotifiedAt)
		}
		if ev.Action != action || ev.FromStatus != StatusApproved || ev.ToStatus != StatusEnded {
			t.Errorf("%s: event %+v", action, ev)
		}
		if !NeedsPartnerNotice(&Claim{Status: StatusEnded, PartnerContact: &PartnerContact{Email: "p@example.com"}}) {
			t.Errorf("an ended association's partner is not notified")
		}
	}
	for _, from := range []Status{StatusPendingCustomer, StatusEnded, StatusRejected} {
		c := &Claim{Status: from, Version: 2}
		if _, err := End(c, ActionDeclined, Actor{}, now, nil); !errors.Is(err, ErrInvalidTransition) || c.Status != from || c.Version != 2 {
			t.Errorf("End from %s: %v, claim %+v", from, err, c)
		}
	}
	c := &Claim{Status: StatusApproved}
	if _, err := End(c, ActionWithdrawn, Actor{}, now, nil); !errors.Is(err, ErrInvalidTransition) || c.Status != StatusApproved {
		t.Errorf("End with withdrawn: %v", err)
	}
}
