package runner_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

type email struct {
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	HTML    string   `json:"html"`
}

func emailsTo(t *testing.T, addr string) []email {
	t.Helper()
	var out struct {
		Items []email `json:"items"`
	}
	r := expect(t, call(t, nil, "GET", "/_local/emails", nil), 200)
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	var mine []email
	for _, e := range out.Items {
		for _, to := range e.To {
			if to == addr {
				mine = append(mine, e)
			}
		}
	}
	return mine
}

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+/opt-out/[A-Za-z0-9_-]{43}`)

func optOutLink(t *testing.T, addr string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if mails := emailsTo(t, addr); len(mails) > 0 {
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

func historyOf(t *testing.T, u *user, id string) string {
	t.Helper()
	items := expect(t, call(t, u, "GET", "/claims/"+id+"/history", nil), 200).json(t)["items"].([]any)
	var parts []string
	var last string
	for _, e := range items {
		m := e.(map[string]any)
		if at := m["at"].(string); at < last {
			t.Fatalf("history out of order at %s", at)
		} else {
			last = at
		}
		parts = append(parts, m["action"].(string)+":"+m["actor"].(map[string]any)["type"].(string))
	}
	return strings.Join(parts, ",")
}

func withBody(t *testing.T, u *user, mutate func(map[string]any)) string {
	t.Helper()
	b := draftBody(true)
	mutate(b)
	return expect(t, call(t, u, "POST", "/claims", b), 201).json(t)["id"].(string)
}

func submitWith(t *testing.T, u *user, id string, content []byte) {
	t.Helper()
	upload(t, u, id, content)
	expect(t, call(t, u, "POST", "/claims/"+id+"/submit", nil), 202)
}

// The journey, over HTTP only, through the real binaries: a claim opted out
// by the customer in Chromium, one approved by finalize, a competitor for
// the same workload rejected, a NeedsInfo answered and approved, one left
// unanswered and rejected; every history complete and in order.
func TestJourney(t *testing.T) {
	p1 := newUser(t, "journey-fabrikam", true)
	p2 := newUser(t, "journey-northwind", true)
	stamp := time.Now().UnixNano() % 1e9
	tenant := func(n int) string { return fmt.Sprintf("%08d-1111-4111-8111-%012d", n, stamp) }

	// A: the customer opts out in the browser.
	optedOut := withBody(t, &p1, func(b map[string]any) {
		b["customer"] = map[string]any{"tenantId": tenant(1), "domain": "alpha.onmicrosoft.com", "name": "Alpha <Ltd>"}
	})
	submitWith(t, &p1, optedOut, pdf)
	// B and C: two partners, one workload, one tenant.
	shared := map[string]any{"tenantId": tenant(2), "domain": "beta.onmicrosoft.com"}
	first := withBody(t, &p1, func(b map[string]any) { b["customer"] = shared })
	second := withBody(t, &p2, func(b map[string]any) { b["customer"] = shared })
	submitWith(t, &p1, first, pdf)
	submitWith(t, &p2, second, pdf)
	// D: unreadable evidence, then answered. E: unreadable and never answered.
	answered := withBody(t, &p2, func(b map[string]any) {
		b["customer"] = map[string]any{"tenantId": tenant(3), "domain": "gamma.onmicrosoft.com"}
	})
	ignored := withBody(t, &p2, func(b map[string]any) {
		b["customer"] = map[string]any{"tenantId": tenant(4), "domain": "delta.onmicrosoft.com"}
	})
	notPDF := []byte("\x89PNG\r\n\x1a\n this is not the declared PDF")
	submitWith(t, &p2, answered, notPDF)
	submitWith(t, &p2, ignored, notPDF)

	c := waitStatus(t, &p1, optedOut, "PendingCustomer")
	addr := c["customerContact"].(map[string]any)["email"].(string)
	link := optOutLink(t, addr)

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
	waitStatus(t, &p1, optedOut, "OptedOut")

	// D and E need information; D is answered with a real PDF.
	d := waitStatus(t, &p2, answered, "NeedsInfo")
	if d["statusReason"].(map[string]any)["code"] != "evidence_invalid" || d["respondBy"] == nil {
		t.Fatalf("needs info: %v", d)
	}
	waitStatus(t, &p2, ignored, "NeedsInfo")
	upload(t, &p2, answered, pdf)
	// The first, unreadable file stays on record; the answer adds a good one.
	expect(t, call(t, &p2, "POST", "/claims/"+answered+"/respond", map[string]any{"comment": "Signed SOW attached.\nThanks."}), 202)
	waitStatus(t, &p1, first, "PendingCustomer")
	waitStatus(t, &p2, second, "PendingCustomer")

	// D is judged again: its new file is readable, the first one is
	// recorded as unreadable, and the customer is notified.
	dd := waitStatus(t, &p2, answered, "PendingCustomer")
	if dd["optOutDeadline"] == nil {
		t.Fatalf("answered: %v", dd)
	}

	// One scheduled run, after every deadline.
	res := invoke(t, base, "FinalizeFunction", scheduled(time.Now().Add(40*24*time.Hour)))
	if res["approved"].(float64) < 2 || res["rejected"].(float64) < 2 {
		t.Fatalf("finalize: %v", res)
	}
	b := expect(t, call(t, &p1, "GET", "/claims/"+first, nil), 200).json(t)
	cc := expect(t, call(t, &p2, "GET", "/claims/"+second, nil), 200).json(t)
	if statuses := b["status"].(string) + "/" + cc["status"].(string); statuses != "Approved/Rejected" && statuses != "Rejected/Approved" {
		t.Fatalf("competitors: %s", statuses)
	}
	loser := cc
	if b["status"] == "Rejected" {
		loser = b
	}
	if loser["statusReason"].(map[string]any)["code"] != "conflict" {
		t.Fatalf("loser's reason %v", loser["statusReason"])
	}
	e := expect(t, call(t, &p2, "GET", "/claims/"+ignored, nil), 200).json(t)
	if e["status"] != "Rejected" || e["statusReason"].(map[string]any)["code"] != "no_response" {
		t.Fatalf("unanswered: %v %v", e["status"], e["statusReason"])
	}
	if got := historyOf(t, &p1, optedOut); got != "created:partner,evidence_added:partner,submitted:partner,customer_notified:system,opted_out:customer" {
		t.Errorf("opted out: %s", got)
	}
	if d := expect(t, call(t, &p2, "GET", "/claims/"+answered, nil), 200).json(t); d["status"] != "Approved" {
		t.Errorf("answered: %v", d["status"])
	}
	if got := historyOf(t, &p2, answered); got != "created:partner,evidence_added:partner,submitted:partner,more_info_requested:system,"+
		"evidence_added:partner,responded:partner,customer_notified:system,approved:system" {
		t.Errorf("answered: %s", got)
	}
	winner, loserID, wp, lp := first, second, &p1, &p2
	if b["status"] == "Rejected" {
		winner, loserID, wp, lp = second, first, &p2, &p1
	}
	if got := historyOf(t, wp, winner); !strings.HasSuffix(got, "customer_notified:system,approved:system") {
		t.Errorf("winner: %s", got)
	}
	if got := historyOf(t, lp, loserID); !strings.HasSuffix(got, "customer_notified:system,rejected:system") {
		t.Errorf("loser: %s", got)
	}
	if got := historyOf(t, &p2, ignored); got != "created:partner,evidence_added:partner,submitted:partner,more_info_requested:system,rejected:system" {
		t.Errorf("ignored: %s", got)
	}
	// A rejection (not an opt-out) may be disputed within 30 days: with a
	// readable proof added, it goes back through validation.
	upload(t, &p2, ignored, pdf)
	dc := expect(t, call(t, &p2, "POST", "/claims/"+ignored+"/dispute", map[string]any{"reason": "We were on leave; signed SOW attached."}), 202).json(t)
	if dc["status"] != "Submitted" || dc["statusReason"] != nil {
		t.Fatalf("dispute: %v", dc)
	}
	waitStatus(t, &p2, ignored, "PendingCustomer")
	if r := call(t, &p1, "POST", "/claims/"+optedOut+"/dispute", map[string]any{"reason": "x"}); r.status != 409 || r.code(t) != "invalid_transition" {
		t.Fatalf("dispute of an opt-out: %d %s", r.status, r.body)
	}
}

func runVoid(ctx context.Context, a chromedp.Action[chromedp.Void]) error {
	_, err := chromedp.Run(ctx, a)
	return err
}
