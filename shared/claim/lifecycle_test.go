package claim

import (
	"errors"
	"testing"
	"time"
)

func TestEveryStepOutsideTheTableIsRefused(t *testing.T) {
	actions := []Action{ActionCreated, ActionUpdated, ActionEvidenceAdded, ActionSubmitted, ActionMoreInfoRequested,
		ActionResponded, ActionCustomerNotified, ActionOptedOut, ActionApproved, ActionRejected, ActionWithdrawn, ActionDisputed}
	allowed := map[Status]map[Action]Status{}
	for _, tr := range Transitions {
		if allowed[tr.From] == nil {
			allowed[tr.From] = map[Action]Status{}
		}
		allowed[tr.From][tr.Action] = tr.To
	}
	for _, from := range Statuses {
		for _, a := range actions {
			to, err := Next(from, a)
			want, ok := allowed[from][a]
			switch {
			case ok && (err != nil || to != want):
				t.Errorf("%s --%s--> got %s, %v; want %s", from, a, to, err, want)
			case !ok && !errors.Is(err, ErrInvalidTransition):
				t.Errorf("%s --%s--> allowed (%s), want ErrInvalidTransition", from, a, to)
			}
		}
	}
	// The design's lifecycle, spelled out.
	for _, tc := range []struct {
		from Status
		a    Action
		to   Status
	}{
		{StatusDraft, ActionSubmitted, StatusSubmitted},
		{StatusSubmitted, ActionCustomerNotified, StatusPendingCustomer},
		{StatusPendingCustomer, ActionApproved, StatusApproved},
		{StatusPendingCustomer, ActionOptedOut, StatusOptedOut},
		{StatusNeedsInfo, ActionResponded, StatusSubmitted},
		{StatusNeedsInfo, ActionRejected, StatusRejected},
		{StatusRejected, ActionDisputed, StatusSubmitted},
		{StatusPendingCustomer, ActionWithdrawn, StatusWithdrawn},
	} {
		if to, err := Next(tc.from, tc.a); err != nil || to != tc.to {
			t.Errorf("%s --%s--> %s, %v; want %s", tc.from, tc.a, to, err, tc.to)
		}
	}
	for _, s := range []Status{StatusDraft, StatusApproved, StatusOptedOut, StatusWithdrawn} {
		if _, err := Next(s, ActionWithdrawn); err == nil {
			t.Errorf("withdraw of %s allowed", s)
		}
	}
	if !StatusApproved.Terminal() || StatusRejected.Terminal() {
		t.Error("Approved is terminal; Rejected may still be disputed")
	}
}

func TestApplyStampsTimesAndVersion(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	c := &Claim{Status: StatusDraft, Version: 3, UpdatedAt: t0}
	ev, err := Apply(c, ActionSubmitted, Actor{Type: ActorPartner, ID: "u"}, t0.Add(time.Minute), map[string]string{"k": "v"})
	if err != nil || c.Status != StatusSubmitted || c.Version != 4 || !c.SubmittedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("%+v %v", c, err)
	}
	if ev.FromStatus != StatusDraft || ev.ToStatus != StatusSubmitted || ev.Action != ActionSubmitted || ev.Detail["k"] != "v" {
		t.Fatalf("event %+v", ev)
	}
	// A clock behind the claim's last change never makes history go back.
	ev, _ = Apply(c, ActionRejected, Actor{Type: ActorSystem, ID: "s"}, t0, nil)
	if ev.At.Before(t0.Add(time.Minute)) || c.DecidedAt == nil {
		t.Fatalf("event at %v, decided %v", ev.At, c.DecidedAt)
	}
	if _, err := Apply(c, ActionApproved, Actor{}, t0, nil); !errors.Is(err, ErrInvalidTransition) || c.Status != StatusRejected {
		t.Fatalf("refused step changed the claim: %v %s", err, c.Status)
	}
}

func TestCheckDispute(t *testing.T) {
	decided := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	rejected := &Claim{Status: StatusRejected, DecidedAt: &decided, StatusReason: &StatusReason{Code: ReasonConflict}}
	if err := CheckDispute(rejected, decided.Add(30*24*time.Hour-time.Hour)); err != nil {
		t.Errorf("day 29: %v", err)
	}
	if err := CheckDispute(rejected, decided.Add(30*24*time.Hour)); !errors.Is(err, ErrInvalidTransition) {
		t.Errorf("day 30: %v", err)
	}
	optedOut := &Claim{Status: StatusRejected, DecidedAt: &decided, StatusReason: &StatusReason{Code: ReasonOptedOut}}
	if err := CheckDispute(optedOut, decided.Add(time.Hour)); err == nil {
		t.Error("an opt-out was disputable")
	}
	if err := CheckDispute(&Claim{Status: StatusOptedOut, DecidedAt: &decided}, decided.Add(time.Hour)); err == nil {
		t.Error("OptedOut was disputable")
	}
	if err := CheckDispute(&Claim{Status: StatusApproved, DecidedAt: &decided}, decided.Add(time.Hour)); err == nil {
		t.Error("Approved was disputable")
	}
}

func TestTokens(t *testing.T) {
	a, ha := NewOptOutToken()
	b, hb := NewOptOutToken()
	if a == b || ha == hb || len(a) != 43 || len(ha) != 64 || !WellFormedToken(a) || HashToken(a) != ha {
		t.Fatalf("tokens %q %q", a, b)
	}
	for _, bad := range []string{"", a[:42], a + "A", a[:42] + "!", a[:42] + "="} {
		if WellFormedToken(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
