package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/apitest"
)

// afterClaim is a claim of the second half's tests: its own tenant, its
// own customer and partner contacts (so each email is known by recipient).
type afterClaim struct {
	id, tenant, customerMail, partnerMail string
}

var afterN int

// newAfterClaim creates a complete claim of u for tenant on the teams
// workload; mutate may change the body further.
func newAfterClaim(t *testing.T, u *apitest.User, tenant string, mutate func(map[string]any)) afterClaim {
	t.Helper()
	afterN++
	stamp := time.Now().UnixNano() % 1e9
	// Each claim's customer has a domain of its own, and the contact is at
	// it: the tenant/domain check then knows both under the claim's tenant.
	domain := fmt.Sprintf("contoso-%d-%d.onmicrosoft.com", afterN, stamp)
	ac := afterClaim{
		tenant:       tenant,
		customerMail: "cio@" + domain,
		partnerMail:  fmt.Sprintf("pat.%d.%d@%s.example", afterN, stamp, u.Partner),
	}
	ac.id = withBody(t, u, func(b map[string]any) {
		b["name"] = markupName
		b["customer"] = map[string]any{"tenantId": tenant, "domain": domain, "name": "Contoso <Ltd>"}
		b["customerContact"] = map[string]any{"name": "Ana", "title": "CIO", "email": ac.customerMail}
		b["partnerContact"] = map[string]any{"name": markupContact, "email": ac.partnerMail}
		if mutate != nil {
			mutate(b)
		}
	})
	return ac
}

func afterTenant() string {
	afterN++
	return fmt.Sprintf("%08d-2222-4222-8222-%012d", afterN, time.Now().UnixNano()%1e12)
}

// approveNow runs the schedule far enough ahead that every notified claim
// is due, and waits for ac to be Approved.
func approveNow(t *testing.T, u *apitest.User, ac afterClaim) map[string]any {
	t.Helper()
	waitNotified(t, u, ac.id)
	apitest.Invoke(t, apitest.Base, "FinalizeFunction", scheduled(time.Now().Add(40*24*time.Hour)))
	return apitest.WaitStatus(t, u, ac.id, "Approved")
}

// approvedClaim is a claim of u taken through validation and approval.
func approvedClaim(t *testing.T, u *apitest.User, tenant string, mutate func(map[string]any)) afterClaim {
	t.Helper()
	ac := newAfterClaim(t, u, tenant, mutate)
	submitWith(t, u, ac.id, apitest.PDF)
	approveNow(t, u, ac)
	return ac
}

// The partner disassociates: only an IncentivesAdmin of the owning partner
// with the claim's MPN ID, with a reason, from Approved only; one
// transaction ends the claim and frees its unit, so another partner's
// claim on it is approved by the next run; both contacts are emailed once.
func TestDisassociate(t *testing.T) {
	stamp := time.Now().UnixNano() % 1e6
	p1 := apitest.NewUser(t, fmt.Sprintf("leaver-%d", stamp), true)
	p2 := apitest.NewUser(t, fmt.Sprintf("newcomer-%d", stamp), true)
	reader := apitest.NewUser(t, p1.Partner, false)
	otherMPN := apitest.NewUser(t, p1.Partner, true, "7654321")
	tenant := afterTenant()

	a := approvedClaim(t, &p1, tenant, nil)
	// Another partner's claim on the held workload is refused while held.
	b := newAfterClaim(t, &p2, tenant, nil)
	submitWith(t, &p2, b.id, apitest.PDF)
	if c := apitest.WaitStatus(t, &p2, b.id, "Rejected"); c["statusReason"].(map[string]any)["code"] != "conflict" {
		t.Fatalf("competitor: %v", c["statusReason"])
	}

	path := "/claims/" + a.id + "/disassociate"
	reason := map[string]any{"reason": "Contract <b>ended</b> on 30 November"}
	if r := apitest.Call(t, &reader, "POST", path, reason); r.Status != 403 || r.Code(t) != "forbidden" {
		t.Errorf("reader: %d %s", r.Status, r.Body)
	}
	if r := apitest.Call(t, &otherMPN, "POST", path, reason); r.Status != 403 || r.Code(t) != "forbidden" {
		t.Errorf("admin without the claim's MPN ID: %d %s", r.Status, r.Body)
	}
	if r := apitest.Call(t, &p2, "POST", path, reason); r.Status != 404 || r.Code(t) != "not_found" {
		t.Errorf("another partner: %d %s", r.Status, r.Body)
	}
	for _, body := range []any{map[string]any{}, map[string]any{"reason": "  "}, map[string]any{"reason": strings.Repeat("x", 2001)}} {
		if r := apitest.Call(t, &p1, "POST", path, body); r.Status != 422 || r.Code(t) != "invalid_input" || strings.Join(r.Fields(t), ",") != "reason" {
			t.Errorf("reason %v: %d %s", body, r.Status, r.Body)
		}
	}
	if r := apitest.Call(t, &p1, "POST", path, map[string]any{"reason": "x", "extra": 1}); r.Status != 400 {
		t.Errorf("unknown field: %d %s", r.Status, r.Body)
	}
	draft := apitest.CreateClaim(t, &p1, true)
	if r := apitest.Call(t, &p1, "POST", "/claims/"+draft+"/disassociate", reason); r.Status != 409 || r.Code(t) != "invalid_transition" {
		t.Errorf("draft: %d %s", r.Status, r.Body)
	}
	if c := apitest.Expect(t, apitest.Call(t, &p1, "GET", "/claims/"+a.id, nil), 200).JSON(t); c["status"] != "Approved" {
		t.Fatalf("refused requests changed the claim: %v", c["status"])
	}

	c := apitest.Expect(t, apitest.Call(t, &p1, "POST", path, map[string]any{"reason": strings.Repeat("r", 2000)[:1980] + " <b>end</b>"}), 200).JSON(t)
	sr := c["statusReason"].(map[string]any)
	if c["status"] != "Ended" || sr["code"] != "partner_disassociated" || c["endedAt"] == nil || c["decidedAt"] == nil {
		t.Fatalf("disassociated: %v", c)
	}
	if r := apitest.Call(t, &p1, "POST", path, reason); r.Status != 409 || r.Code(t) != "invalid_transition" {
		t.Errorf("second disassociate: %d %s", r.Status, r.Body)
	}
	evs := history(t, &p1, a.id)
	last := evs[len(evs)-1]
	if last.Action != "disassociated" || last.FromStatus != "Approved" || last.ToStatus != "Ended" || last.Actor.Type != "partner" ||
		evs[len(evs)-2].Action != "approved" {
		t.Errorf("history: %+v", evs)
	}
	if d := lastDetail(t, &p1, a.id); !strings.HasSuffix(d["reason"].(string), "<b>end</b>") {
		t.Errorf("the event's detail lacks the reason: %v", d)
	}

	// The customer contact: the opt-out notice, the approval, then the end
	// (escaped).
	m := awaitCount(t, a.customerMail, 3)
	ended := m[len(m)-1]
	if !strings.Contains(ended.Subject, "no longer associated") || !strings.Contains(ended.Text, "<b>end</b>") ||
		strings.Contains(ended.HTML, "<b>end</b>") || !strings.Contains(ended.HTML, "&lt;b&gt;end&lt;/b&gt;") ||
		!strings.Contains(ended.Text, "Microsoft Teams") || !strings.Contains(ended.Text, tenant) {
		t.Errorf("customer's email: %s\n%s\n%s", ended.Subject, ended.Text, ended.HTML)
	}
	// The partner contact: approved, then ended.
	pm := awaitMails(t, a.partnerMail, `Claim "`+markupName+`": approved`, `Claim "`+markupName+`": ended`)
	partnerMail(t, "ended", pm[`Claim "`+markupName+`": ended`], a.partnerMail, a.id)

	// The unit is free at once: the competitor, disputed, is validated
	// again and approved by the next run.
	apitest.Upload(t, &p2, b.id, apitest.PDF)
	apitest.Expect(t, apitest.Call(t, &p2, "POST", "/claims/"+b.id+"/dispute", map[string]any{"reason": "The customer moved to us."}), 202)
	approveNow(t, &p2, b)
	if c := apitest.Expect(t, apitest.Call(t, &p1, "GET", "/claims/"+a.id, nil), 200).JSON(t); c["status"] != "Ended" {
		t.Errorf("ended claim is %v", c["status"])
	}
}

// awaitCount waits until addr has exactly n emails and returns them.
func awaitCount(t *testing.T, addr string, n int) []email {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := mailsTo(t, addr)
		if len(m) == n {
			return m
		}
		if len(m) > n || time.Now().After(deadline) {
			t.Fatalf("%d emails to %s, want %d", len(m), addr, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// lastDetail is the detail of a claim's last history event.
func lastDetail(t *testing.T, u *apitest.User, id string) map[string]any {
	t.Helper()
	items := apitest.Expect(t, apitest.Call(t, u, "GET", "/claims/"+id+"/history", nil), 200).JSON(t)["items"].([]any)
	d, _ := items[len(items)-1].(map[string]any)["detail"].(map[string]any)
	return d
}

// waitNotified waits until a PendingCustomer claim's customer notice is
// confirmed sent (customerNotifiedAt): finalize approves only such a claim,
// and re-queues one whose email is not yet marked.
func waitNotified(t *testing.T, u *apitest.User, id string) {
	t.Helper()
	apitest.WaitStatus(t, u, id, "PendingCustomer")
	deadline := time.Now().Add(30 * time.Second)
	for apitest.Expect(t, apitest.Call(t, u, "GET", "/claims/"+id, nil), 200).JSON(t)["customerNotifiedAt"] == nil {
		if time.Now().After(deadline) {
			t.Fatalf("claim %s: the customer's notice is not confirmed sent", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
