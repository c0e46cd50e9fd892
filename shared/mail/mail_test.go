package mail

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/cpor-claims/claims/shared/claim"
)

type captured struct{ in *ses.SendEmailInput }

func (c *captured) SendEmail(_ context.Context, in *ses.SendEmailInput, _ ...func(*ses.Options)) (*ses.SendEmailOutput, error) {
	c.in = in
	id := "m-1"
	return &ses.SendEmailOutput{MessageId: &id}, nil
}

func TestHeaderSafe(t *testing.T) {
	for in, want := range map[string]string{
		"Fabrikam\r\nBcc: victim@example.com": "Fabrikam Bcc: victim@example.com",
		"a\tb\u0085c\u2028d":                  "a b c d",
		"  spaced   out ":                     "spaced out",
	} {
		if got := HeaderSafe(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	if got := HeaderSafe(strings.Repeat("é", 300)); len([]rune(got)) != 200 {
		t.Errorf("not bounded: %d", len([]rune(got)))
	}
}

func TestNoHeaderInjectionAndEscapedBodies(t *testing.T) {
	cap := &captured{}
	loc, _ := time.LoadLocation("Europe/Lisbon")
	m, err := New(cap, "claims@example.com", loc)
	if err != nil {
		t.Fatal(err)
	}
	dl := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	c := &claim.Claim{
		ID: "c1", PartnerID: "p1", PartnerName: "Evil\r\nBcc: x@y.com <script>alert(1)</script>",
		Customer:        claim.Customer{TenantID: "t", Domain: "contoso.com", Name: `"><img src=x onerror=alert(1)>`},
		Products:        []claim.ProductRef{{ID: "teams"}},
		CustomerContact: &claim.Contact{Name: "<b>Ana</b>", Email: "ana@contoso.com"},
		OptOutDeadline:  &dl,
	}
	msg, err := m.CustomerNotice(c, "https://claims.example.com/opt-out/TOKEN")
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(msg.Subject, "\r\n") {
		t.Fatalf("CR/LF in the subject: %q", msg.Subject)
	}
	for _, bad := range []string{"<script>", "<img", "<b>Ana"} {
		if strings.Contains(msg.HTML, bad) {
			t.Fatalf("HTML part carries %q unescaped", bad)
		}
	}
	if !strings.Contains(msg.HTML, "&lt;script&gt;") || !strings.Contains(msg.Text, "https://claims.example.com/opt-out/TOKEN") ||
		!strings.Contains(msg.HTML, `href="https://claims.example.com/opt-out/TOKEN"`) || !strings.Contains(msg.Text, "Thursday 3 December 2026 00:00 WET") {
		t.Fatalf("parts:\n%s\n%s", msg.Text, msg.HTML)
	}
	// The text part needs no HTML escaping (markup in a name is shown as
	// typed), but a name's CR/LF cannot add a line of its own to it.
	if !strings.Contains(msg.Text, "Bcc: x@y.com <script>alert(1)</script> has asked") {
		t.Fatalf("text part:\n%s", msg.Text)
	}
	for _, line := range strings.Split(msg.Text, "\n") {
		if strings.HasPrefix(line, "Bcc:") || strings.Contains(line, "\r") {
			t.Fatalf("a name added a line to the text part: %q", line)
		}
	}
	if _, err := m.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if got := cap.in.Destination.ToAddresses; len(got) != 1 || got[0] != "ana@contoso.com" {
		t.Fatalf("to %v", got)
	}
	for _, to := range []string{"ana@contoso.com\r\nBcc: x@y.com", "Ana <ana@contoso.com>", "a@b.com, c@d.com"} {
		msg.To = to
		if _, err := m.Send(context.Background(), msg); err == nil {
			t.Errorf("recipient %q accepted", to)
		}
	}
	if _, err := New(cap, "bad\r\nsender@example.com", loc); err == nil {
		t.Error("a sender with CR/LF accepted")
	}
}

func TestPartnerNotices(t *testing.T) {
	m, _ := New(&captured{}, "claims@example.com", time.UTC)
	rb := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	c := &claim.Claim{ID: "c1", Name: "Teams", Customer: claim.Customer{Domain: "contoso.com"}, Status: claim.StatusNeedsInfo, RespondBy: &rb,
		PartnerContact: &claim.PartnerContact{Name: "Pat", Email: "pat@fabrikam.com"},
		StatusReason:   &claim.StatusReason{Code: claim.ReasonEvidenceInvalid, Message: "sow.pdf is not a PDF"}}
	msg, ok, err := m.PartnerNotice(c)
	if err != nil || !ok || !strings.Contains(msg.Text, "sow.pdf is not a PDF") || !strings.Contains(msg.Text, "Tuesday 1 December 2026") {
		t.Fatalf("needs info: %v %v %+v", ok, err, msg)
	}
	for status, word := range map[claim.Status]string{claim.StatusApproved: "approved", claim.StatusRejected: "rejected", claim.StatusOptedOut: "opted out"} {
		c.Status = status
		msg, ok, _ := m.PartnerNotice(c)
		if !ok || !strings.Contains(msg.Subject, word) {
			t.Errorf("%s: %v %q", status, ok, msg.Subject)
		}
	}
	c.Status = claim.StatusSubmitted
	if _, ok, _ := m.PartnerNotice(c); ok {
		t.Error("a notice for Submitted")
	}
	c.Status, c.PartnerContact = claim.StatusApproved, nil
	if _, ok, _ := m.PartnerNotice(c); ok {
		t.Error("a notice without a partner contact")
	}
}
