package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cpor-claims/claims/local/apitest"
)

type email struct {
	To      []string `json:"to"`
	From    string   `json:"from"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	HTML    string   `json:"html"`
}

// mailsTo reads the emails sent to addr back from SES (through the
// runner's GET /_local/emails), oldest first.
func mailsTo(t *testing.T, addr string) []email {
	t.Helper()
	var out struct {
		Items []email `json:"items"`
	}
	r := apitest.Expect(t, apitest.Call(t, nil, "GET", "/_local/emails", nil), 200)
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	var mine []email
	for _, e := range out.Items {
		if slices.Contains(e.To, addr) {
			mine = append(mine, e)
		}
	}
	return mine
}

// awaitMails polls SES until addr has received exactly the emails with
// these subjects (in any order: notices may be sent asynchronously), and
// returns them by subject. An email that never comes, or one too many, fails.
func awaitMails(t *testing.T, addr string, subjects ...string) map[string]email {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mails := mailsTo(t, addr)
		got := map[string]email{}
		var have []string
		for _, m := range mails {
			got[m.Subject] = m
			have = append(have, m.Subject)
		}
		want := slices.Clone(subjects)
		slices.Sort(want)
		slices.Sort(have)
		if slices.Equal(have, want) {
			return got
		}
		if len(have) > len(want) || time.Now().After(deadline) {
			t.Fatalf("emails to %s:\n got %q\nwant %q", addr, have, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+/opt-out/[A-Za-z0-9_-]{43}`)

// customerLink waits for the one customer email to addr and returns its
// opt-out link, which must be the same in the text and the HTML part.
func customerLink(t *testing.T, addr string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if mails := mailsTo(t, addr); len(mails) > 0 {
			if len(mails) != 1 {
				t.Fatalf("%d emails to %s, want 1", len(mails), addr)
			}
			text, html := linkRE.FindString(mails[0].Text), linkRE.FindString(mails[0].HTML)
			if text == "" || text != html {
				t.Fatalf("the link must be in both parts: text %q html %q", text, html)
			}
			return text
		}
		if time.Now().After(deadline) {
			t.Fatalf("no email to %s", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func browser(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	exe := "/usr/bin/chromium"
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("Debian's chromium is required for the opt-out test (make tools installs it): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(390, 844)) // a phone
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	return ctx, func() { cancelCtx(); cancelAlloc() }
}

// event is one history item as the API returns it.
type event struct {
	At         string `json:"at"`
	Action     string `json:"action"`
	FromStatus string `json:"fromStatus"`
	ToStatus   string `json:"toStatus"`
	Actor      struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"actor"`
}

// history reads a claim's history and checks that its times are RFC 3339
// UTC instants in order (parsed: RFC3339Nano text has a variable width and
// does not sort as text).
func history(t *testing.T, u *apitest.User, id string) []event {
	t.Helper()
	var out struct {
		Items []event `json:"items"`
	}
	if err := json.Unmarshal(apitest.Expect(t, apitest.Call(t, u, "GET", "/claims/"+id+"/history", nil), 200).Body, &out); err != nil {
		t.Fatal(err)
	}
	var last time.Time
	for i, e := range out.Items {
		at, err := time.Parse(time.RFC3339Nano, e.At)
		if err != nil || !strings.HasSuffix(e.At, "Z") {
			t.Fatalf("event %d of %s: time %q is not RFC 3339 UTC: %v", i, id, e.At, err)
		}
		if at.Before(last) {
			t.Fatalf("history of %s out of order: event %d at %s before %s", id, i, e.At, last.Format(time.RFC3339Nano))
		}
		last = at
	}
	return out.Items
}

// historyOf is a claim's history as "action:actorType,...", in order.
func historyOf(t *testing.T, u *apitest.User, id string) string {
	t.Helper()
	var parts []string
	for _, e := range history(t, u, id) {
		parts = append(parts, e.Action+":"+e.Actor.Type)
	}
	return strings.Join(parts, ",")
}

// wantHistory checks a claim's whole history, in order: each step as
// "action from>to actorType" (from is empty for created). A partner's
// steps must name the user who took them.
func wantHistory(t *testing.T, u *apitest.User, id, sub string, steps ...string) {
	t.Helper()
	evs := history(t, u, id)
	var got []string
	for _, e := range evs {
		got = append(got, fmt.Sprintf("%s %s>%s %s", e.Action, e.FromStatus, e.ToStatus, e.Actor.Type))
		if e.Actor.Type == "partner" && e.Actor.ID != sub {
			t.Errorf("%s: %s by partner %q, want %q", id, e.Action, e.Actor.ID, sub)
		}
	}
	if !slices.Equal(got, steps) {
		t.Errorf("history of %s:\n got %q\nwant %q", id, got, steps)
	}
}

func withBody(t *testing.T, u *apitest.User, mutate func(map[string]any)) string {
	t.Helper()
	b := apitest.DraftBody(true)
	mutate(b)
	apitest.RegisterBody(t, b)
	return apitest.Expect(t, apitest.Call(t, u, "POST", "/claims", b), 201).JSON(t)["id"].(string)
}

func submitWith(t *testing.T, u *apitest.User, id string, content []byte) {
	t.Helper()
	apitest.Upload(t, u, id, content)
	apitest.Expect(t, apitest.Call(t, u, "POST", "/claims/"+id+"/submit", nil), 202)
}

// Partner-typed text with markup: stored as text, escaped in every HTML
// part, verbatim in subjects and text parts.
const (
	markupName    = `Teams <b>rollout</b> & co`
	markupContact = `Pat <i>Lee</i>`
)

// partnerMail checks one partner notice: from the sender, to the partner
// contact only, the partner's text escaped in the HTML part, and each of
// must in both parts (escaped in the HTML).
func partnerMail(t *testing.T, what string, m email, to string, must ...string) {
	t.Helper()
	if m.From != rt.Resources().Sender || !slices.Equal(m.To, []string{to}) {
		t.Errorf("%s: from %q to %q, want from %q to [%s]", what, m.From, m.To, rt.Resources().Sender, to)
	}
	for _, raw := range []string{"<b>", "<i>", "</b>", "</i>"} {
		if strings.Contains(m.HTML, raw) {
			t.Errorf("%s: partner-typed %q reached the HTML part unescaped:\n%s", what, raw, m.HTML)
		}
	}
	for _, s := range append([]string{markupName, markupContact}, must...) {
		if !strings.Contains(m.Text, s) {
			t.Errorf("%s: text part lacks %q:\n%s", what, s, m.Text)
		}
		if esc := template.HTMLEscapeString(s); !strings.Contains(m.HTML, esc) {
			t.Errorf("%s: HTML part lacks %q:\n%s", what, esc, m.HTML)
		}
	}
}

// The journey, over HTTP only, through the real binaries: a claim opted out
// by the customer in Chromium, one approved by finalize, a competitor for
// the same workload rejected, a NeedsInfo answered and approved, one left
// unanswered, rejected, disputed and validated again; every history whole
// and in order, every partner notice read back from SES, and every status
// change received as a signed webhook by its partner.
func TestJourney(t *testing.T) {
	p1 := apitest.NewUser(t, "journey-fabrikam", true)
	p2 := apitest.NewUser(t, "journey-northwind", true)
	sub1, sub2 := "user@journey-fabrikam.example", "user@journey-northwind.example"
	// Each partner has a webhook at a receiver of its own (issue 14): at
	// the end, every status change of its claims must have reached it, signed.
	hook1, hook2 := hookFor(t, &p1), hookFor(t, &p2)
	stamp := time.Now().UnixNano() % 1e9
	tenant := func(n int) string { return fmt.Sprintf("%08d-1111-4111-8111-%012d", n, stamp) }
	// Every claim has its own contacts, so that each email is known by its
	// recipient.
	// The customer contact's domain is one of the customer's tenant
	// (withBody registers it with the customer's domain).
	contact := func(b map[string]any, tag string) string {
		addr := fmt.Sprintf("pat.%s.%d@fabrikam.example", tag, stamp)
		b["name"] = markupName
		b["partnerContact"] = map[string]any{"name": markupContact, "email": addr}
		b["customerContact"] = map[string]any{"name": "Ana", "title": "CIO", "email": fmt.Sprintf("ana@%s%d.contoso.example", tag, stamp)}
		return addr
	}
	var mailA, mailB, mailC, mailD, mailE string

	// A: the customer opts out in the browser.
	optedOut := withBody(t, &p1, func(b map[string]any) {
		mailA = contact(b, "a")
		b["customer"] = map[string]any{"tenantId": tenant(1), "domain": "alpha.onmicrosoft.com", "name": "Alpha <Ltd>"}
	})
	submitWith(t, &p1, optedOut, apitest.PDF)
	// B and C: two partners, one workload, one tenant.
	shared := map[string]any{"tenantId": tenant(2), "domain": "beta.onmicrosoft.com"}
	first := withBody(t, &p1, func(b map[string]any) { mailB = contact(b, "b"); b["customer"] = shared })
	second := withBody(t, &p2, func(b map[string]any) { mailC = contact(b, "c"); b["customer"] = shared })
	submitWith(t, &p1, first, apitest.PDF)
	submitWith(t, &p2, second, apitest.PDF)
	// D: unreadable evidence, then answered. E: unreadable and never answered.
	answered := withBody(t, &p2, func(b map[string]any) {
		mailD = contact(b, "d")
		b["customer"] = map[string]any{"tenantId": tenant(3), "domain": "gamma.onmicrosoft.com"}
	})
	ignored := withBody(t, &p2, func(b map[string]any) {
		mailE = contact(b, "e")
		b["customer"] = map[string]any{"tenantId": tenant(4), "domain": "delta.onmicrosoft.com"}
	})
	notPDF := []byte("\x89PNG\r\n\x1a\n this is not the declared PDF")
	submitWith(t, &p2, answered, notPDF)
	submitWith(t, &p2, ignored, notPDF)

	c := apitest.WaitStatus(t, &p1, optedOut, "PendingCustomer")
	addr := c["customerContact"].(map[string]any)["email"].(string)
	link := customerLink(t, addr)
	notice := mailsTo(t, addr)[0]
	if strings.Contains(notice.HTML, "<Partners>") || !strings.Contains(notice.HTML, "journey-fabrikam &lt;Partners&gt;") ||
		strings.Contains(notice.HTML, "<Ltd>") || !strings.Contains(notice.HTML, "Alpha &lt;Ltd&gt;") {
		t.Errorf("customer notice: partner and customer names must be escaped in the HTML part:\n%s", notice.HTML)
	}

	ctx, cancel := browser(t)
	defer cancel()
	shot := filepath.Join(t.TempDir(), "confirmation.png")
	// The first Run starts the browser: it takes no timeout (chromedp's rule).
	if _, err := chromedp.Run(ctx, chromedp.Navigate(link)); err != nil {
		t.Fatalf("browser: %v", err)
	}
	step, stop := context.WithTimeout(ctx, 45*time.Second)
	defer stop()
	must := func(v string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatalf("browser: %v", err)
		}
		return v
	}
	must("", runVoid(step, chromedp.WaitVisible("#opt-out")))
	partner := must(chromedp.Run(step, chromedp.Text("#partner")))
	products := must(chromedp.Run(step, chromedp.Text("#products")))
	must("", runVoid(step, chromedp.Click("#opt-out")))
	must("", runVoid(step, chromedp.WaitVisible("#confirmation")))
	confirmation := must(chromedp.Run(step, chromedp.Text("#confirmation")))
	png, err := chromedp.Run(step, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	_ = os.WriteFile(shot, png, 0o600)
	if os.Getenv("JOURNEY_SCREENSHOT") != "" {
		_ = os.WriteFile(os.Getenv("JOURNEY_SCREENSHOT"), png, 0o600)
	}
	if partner != "journey-fabrikam <Partners>" || !strings.Contains(products, "Microsoft Teams") || !strings.Contains(confirmation, "opted out") {
		t.Fatalf("page showed partner %q products %q confirmation %q", partner, products, confirmation)
	}
	apitest.WaitStatus(t, &p1, optedOut, "OptedOut")

	// D and E need information; D is answered with a real PDF.
	d := apitest.WaitStatus(t, &p2, answered, "NeedsInfo")
	if d["statusReason"].(map[string]any)["code"] != "evidence_invalid" || d["respondBy"] == nil {
		t.Fatalf("needs info: %v", d)
	}
	e := apitest.WaitStatus(t, &p2, ignored, "NeedsInfo")
	respondBy := map[string]string{}
	for id, cl := range map[string]map[string]any{answered: d, ignored: e} {
		at, err := time.Parse(time.RFC3339, cl["respondBy"].(string))
		if err != nil {
			t.Fatalf("respondBy %v: %v", cl["respondBy"], err)
		}
		// Shown in the business time zone (template.yaml's BusinessTimeZone).
		la, _ := time.LoadLocation("America/Los_Angeles")
		// The last day to act, and the UTC instant beside it (issue 15, item 7).
		respondBy[id] = "the end of " + at.In(la).Add(-time.Nanosecond).Format("Monday 2 January 2006") +
			", Pacific time (" + at.UTC().Format("Monday 2 January 2006 15:04") + " UTC)"
	}
	apitest.Upload(t, &p2, answered, apitest.PDF)
	// The first, unreadable file stays on record; the answer adds a good one.
	apitest.Expect(t, apitest.Call(t, &p2, "POST", "/claims/"+answered+"/respond", map[string]any{"comment": "Signed SOW attached.\nThanks."}), 202)
	apitest.WaitStatus(t, &p1, first, "PendingCustomer")
	apitest.WaitStatus(t, &p2, second, "PendingCustomer")

	// D is judged again: its new file is readable, the first one is
	// recorded as unreadable, and the customer is notified.
	dd := apitest.WaitStatus(t, &p2, answered, "PendingCustomer")
	if dd["optOutDeadline"] == nil {
		t.Fatalf("answered: %v", dd)
	}

	// One scheduled run, after every deadline, once every notice is
	// confirmed sent (finalize re-queues a claim whose email is not marked).
	waitNotified(t, &p1, first)
	waitNotified(t, &p2, second)
	waitNotified(t, &p2, answered)
	res := apitest.Invoke(t, apitest.Base, "FinalizeFunction", scheduled(time.Now().Add(40*24*time.Hour)))
	if res["approved"].(float64) < 2 || res["rejected"].(float64) < 2 {
		t.Fatalf("finalize: %v", res)
	}
	b := apitest.Expect(t, apitest.Call(t, &p1, "GET", "/claims/"+first, nil), 200).JSON(t)
	cc := apitest.Expect(t, apitest.Call(t, &p2, "GET", "/claims/"+second, nil), 200).JSON(t)
	if statuses := b["status"].(string) + "/" + cc["status"].(string); statuses != "Approved/Rejected" && statuses != "Rejected/Approved" {
		t.Fatalf("competitors: %s", statuses)
	}
	winner, loserID, wp, lp, wsub, lsub, wmail, lmail := first, second, &p1, &p2, sub1, sub2, mailB, mailC
	loser := cc
	if b["status"] == "Rejected" {
		winner, loserID, wp, lp, wsub, lsub, wmail, lmail = second, first, &p2, &p1, sub2, sub1, mailC, mailB
		loser = b
	}
	if loser["statusReason"].(map[string]any)["code"] != "conflict" {
		t.Fatalf("loser's reason %v", loser["statusReason"])
	}
	ee := apitest.Expect(t, apitest.Call(t, &p2, "GET", "/claims/"+ignored, nil), 200).JSON(t)
	if ee["status"] != "Rejected" || ee["statusReason"].(map[string]any)["code"] != "no_response" {
		t.Fatalf("unanswered: %v %v", ee["status"], ee["statusReason"])
	}
	if d := apitest.Expect(t, apitest.Call(t, &p2, "GET", "/claims/"+answered, nil), 200).JSON(t); d["status"] != "Approved" {
		t.Errorf("answered: %v", d["status"])
	}

	// Every history, whole and in order.
	created, evidence, submitted := "created >Draft partner", "evidence_added Draft>Draft partner", "submitted Draft>Submitted partner"
	notified := "customer_notified Submitted>PendingCustomer system"
	wantHistory(t, &p1, optedOut, sub1, created, evidence, submitted, notified, "opted_out PendingCustomer>OptedOut customer")
	wantHistory(t, wp, winner, wsub, created, evidence, submitted, notified, "approved PendingCustomer>Approved system")
	wantHistory(t, lp, loserID, lsub, created, evidence, submitted, notified, "rejected PendingCustomer>Rejected system")
	wantHistory(t, &p2, answered, sub2, created, evidence, submitted, "more_info_requested Submitted>NeedsInfo system",
		"evidence_added NeedsInfo>NeedsInfo partner", "responded NeedsInfo>Submitted partner", notified, "approved PendingCustomer>Approved system")
	ignoredSteps := []string{created, evidence, submitted, "more_info_requested Submitted>NeedsInfo system", "rejected NeedsInfo>Rejected system"}
	wantHistory(t, &p2, ignored, sub2, ignoredSteps...)

	// A rejection (not an opt-out) may be disputed within 30 days: with a
	// readable proof added, it goes back through validation.
	apitest.Upload(t, &p2, ignored, apitest.PDF)
	dc := apitest.Expect(t, apitest.Call(t, &p2, "POST", "/claims/"+ignored+"/dispute", map[string]any{"reason": "We were on leave; signed SOW attached."}), 202).JSON(t)
	if dc["status"] != "Submitted" || dc["statusReason"] != nil {
		t.Fatalf("dispute: %v", dc)
	}
	apitest.WaitStatus(t, &p2, ignored, "PendingCustomer")
	wantHistory(t, &p2, ignored, sub2, append(ignoredSteps, "evidence_added Rejected>Rejected partner",
		"disputed Rejected>Submitted partner", notified)...)
	if r := apitest.Call(t, &p1, "POST", "/claims/"+optedOut+"/dispute", map[string]any{"reason": "x"}); r.Status != 409 || r.Code(t) != "invalid_transition" {
		t.Fatalf("dispute of an opt-out: %d %s", r.Status, r.Body)
	}

	// The partner notices, read back from SES: each contact got exactly its
	// claim's notices.
	needsInfo := `Action required: claim "` + markupName + `" needs more information`
	decided := func(outcome string) string { return `Claim "` + markupName + `": ` + outcome }
	reason := func(cl map[string]any) string { return cl["statusReason"].(map[string]any)["message"].(string) }
	m := awaitMails(t, mailA, decided("closed: the customer opted out"))
	partnerMail(t, "opted out", m[decided("closed: the customer opted out")], mailA, "alpha.onmicrosoft.com")
	m = awaitMails(t, wmail, decided("approved"))
	partnerMail(t, "approved", m[decided("approved")], wmail, winner)
	m = awaitMails(t, lmail, decided("rejected"))
	partnerMail(t, "conflict", m[decided("rejected")], lmail, loserID, "Reason: "+reason(loser))
	m = awaitMails(t, mailD, needsInfo, decided("approved"))
	partnerMail(t, "needs info", m[needsInfo], mailD, respondBy[answered], reason(d))
	partnerMail(t, "approved after an answer", m[decided("approved")], mailD, answered)
	m = awaitMails(t, mailE, needsInfo, decided("rejected"))
	partnerMail(t, "needs info", m[needsInfo], mailE, respondBy[ignored], reason(e))
	partnerMail(t, "no response", m[decided("rejected")], mailE, ignored, "Reason: "+reason(ee))

	// The second half (issue 15). The winner's unit is in its registry; its
	// customer ends the association in Chromium from the approval email's
	// link; the unit is free at once and the loser's claim, disputed, is
	// approved by the next run; its registry read back as CSV; then its
	// partner disassociates; and a subscription ends.
	shared2 := "&tenantId=" + tenant(2)
	if rows := apitest.Expect(t, apitest.Call(t, wp, "GET", "/associations?limit=100"+shared2, nil), 200).JSON(t)["items"].([]any); len(rows) != 1 || rows[0].(map[string]any)["claimId"] != winner {
		t.Fatalf("the winner's registry: %v", rows)
	}
	wcust := fmt.Sprintf("ana@%s%d.contoso.example", map[bool]string{true: "b", false: "c"}[winner == first], stamp)
	dl := declineLink(t, wcust)
	dtab := newTab(t, ctx)
	if code := dtab.open(t, dl, ""); code != 200 {
		t.Fatalf("decline page: %d", code)
	}
	dtab.checkRendered(t, "the decline page", "#decline")
	if code := dtab.open(t, dl, "#decline"); code != 200 {
		t.Fatalf("decline: %d", code)
	}
	dtab.checkRendered(t, "the decline confirmation", "#confirmation")
	if w := apitest.WaitStatus(t, wp, winner, "Ended"); w["statusReason"].(map[string]any)["code"] != "customer_declined" {
		t.Fatalf("declined: %v", w["statusReason"])
	}
	if rows := apitest.Expect(t, apitest.Call(t, wp, "GET", "/associations?limit=100"+shared2, nil), 200).JSON(t)["items"].([]any); len(rows) != 0 {
		t.Fatalf("a declined unit is still listed: %v", rows)
	}
	apitest.Upload(t, lp, loserID, apitest.PDF)
	apitest.Expect(t, apitest.Call(t, lp, "POST", "/claims/"+loserID+"/dispute", map[string]any{"reason": "The customer ended the other association."}), 202)
	approveNow(t, lp, afterClaim{id: loserID})
	_, rows, _ := readCSV(t, lp, "/associations?limit=2"+shared2)
	if len(rows) != 1 || rows[0]["claimId"] != loserID || rows[0]["productId"] != "teams" || rows[0]["subscriptionId"] != "" {
		t.Fatalf("the new holder's CSV: %v", rows)
	}
	if c := apitest.Expect(t, apitest.Call(t, lp, "POST", "/claims/"+loserID+"/disassociate", map[string]any{"reason": "Engagement over."}), 200).JSON(t); c["status"] != "Ended" {
		t.Fatalf("disassociate: %v", c["status"])
	}
	wantHistory(t, lp, loserID, lsub, created, evidence, submitted, notified, "rejected PendingCustomer>Rejected system",
		"evidence_added Rejected>Rejected partner", "disputed Rejected>Submitted partner", notified,
		"approved PendingCustomer>Approved system", "disassociated Approved>Ended partner")
	subID := fmt.Sprintf("5ab5ab5a-2222-4000-8000-%012d", stamp)
	sc := approvedClaim(t, &p1, tenant(5), dynamicsClaim(subID))
	subscriptionEnded(t, fmt.Sprintf("journey-%d", stamp), tenant(5), subID)
	if c := apitest.WaitStatus(t, &p1, sc.id, "Ended"); c["statusReason"].(map[string]any)["code"] != "subscription_ended" {
		t.Fatalf("subscription ended: %v", c["statusReason"])
	}

	// Every status change of every claim reached its partner's webhook,
	// signed, once its webhook-id de-duplicates the redeliveries.
	checkWebhooks(t, time.Minute, map[string]journeyHook{optedOut: hook1, first: hook1, second: hook2,
		answered: hook2, ignored: hook2, sc.id: hook1})
}

func runVoid(ctx context.Context, a chromedp.Action[chromedp.Void]) error {
	_, err := chromedp.Run(ctx, a)
	return err
}
