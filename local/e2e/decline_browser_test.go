package e2e_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/shared/claim"
)

var declineRE = regexp.MustCompile(`https?://[^\s"<>]+/decline/[A-Za-z0-9_-]{43}`)

// declineLink waits for the approval email to the customer contact and
// returns its decline link, the same in the text and the HTML part.
func declineLink(t *testing.T, addr string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, m := range mailsTo(t, addr) {
			if !strings.Contains(m.Subject, "is now associated") {
				continue
			}
			text, html := declineRE.FindString(m.Text), declineRE.FindString(m.HTML)
			if text == "" || text != html {
				t.Fatalf("the decline link must be in both parts: text %q html %q", text, html)
			}
			if strings.Contains(m.HTML, "<Partners>") || !strings.Contains(m.HTML, "&lt;Partners&gt;") || !strings.Contains(m.Text, "Microsoft Teams") {
				t.Errorf("approval email: names must be escaped in HTML, products named:\n%s\n%s", m.Text, m.HTML)
			}
			return text
		}
		if time.Now().After(deadline) {
			t.Fatalf("no approval email to %s", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The customer ends an approved association from the approval email's link,
// in Chromium with JavaScript off on a phone: GET shows the page and
// changes nothing; the button POSTs and ends it (customer_declined); the
// link opened again is 410 (ended) and says the customer ended it, a POST
// again shows the confirmation (200); neither changes anything; an unknown link is
// 404, an opt-out link is no decline link (404), and the link of an
// association the partner ended is 410. The unit is free at once: another
// partner's claim on it is approved by the next run.
func TestDeclineInChromium(t *testing.T) {
	stamp := time.Now().UnixNano() % 1e6
	p1 := apitest.NewUser(t, fmt.Sprintf("declined-%d", stamp), true)
	p2 := apitest.NewUser(t, fmt.Sprintf("successor-%d", stamp), true)
	tenant := afterTenant()
	a := approvedClaim(t, &p1, tenant, nil)
	link := declineLink(t, a.customerMail)
	gone := approvedClaim(t, &p1, afterTenant(), nil)
	goneLink := declineLink(t, gone.customerMail)
	apitest.Expect(t, apitest.Call(t, &p1, "POST", "/claims/"+gone.id+"/disassociate", map[string]any{"reason": "Contract ended."}), 200)
	optOutLink := linkRE.FindString(mailsTo(t, a.customerMail)[0].Text) // the first email: the opt-out notice
	if optOutLink == "" {
		t.Fatal("no opt-out link in the first email")
	}
	unknown, _ := claim.NewOptOutToken()
	unknownLink := link[:strings.LastIndex(link, "/")+1] + unknown
	misused := link[:strings.LastIndex(link, "/")+1] + optOutLink[strings.LastIndex(optOutLink, "/")+1:]

	resp, body := fetch(t, http.MethodGet, link)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<form method="post">`) {
		t.Fatalf("the link's page: %d\n%s", resp.StatusCode, body)
	}
	checkHeaders(t, "the decline page", resp, body)

	ctx, cancel := browser(t)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("browser: %v", err)
	}
	tb := newTab(t, ctx)
	if code := tb.open(t, link, ""); code != http.StatusOK {
		t.Fatalf("GET link: %d", code)
	}
	tb.checkRendered(t, "the decline page", "#decline")
	if partner := tb.eval(t, `document.querySelector("#partner").textContent`); partner != p1.Partner+" <Partners>" {
		t.Errorf("partner shown: %q", partner)
	}
	if c := apitest.Expect(t, apitest.Call(t, &p1, "GET", "/claims/"+a.id, nil), 200).JSON(t); c["status"] != "Approved" {
		t.Fatalf("opening the link changed the claim: %v", c["status"])
	}
	if code := tb.open(t, link, "#decline"); code != http.StatusOK {
		t.Fatalf("POST through the button: %d", code)
	}
	tb.checkRendered(t, "the confirmation", "#confirmation")
	c := apitest.WaitStatus(t, &p1, a.id, "Ended")
	if c["statusReason"].(map[string]any)["code"] != "customer_declined" {
		t.Fatalf("declined: %v", c["statusReason"])
	}
	if code := tb.open(t, link, ""); code != http.StatusGone {
		t.Fatalf("the link again (ended: 410, saying the customer ended it): %d", code)
	}
	tb.checkRendered(t, "already declined", "#confirmation")
	if code := tb.open(t, unknownLink, ""); code != http.StatusNotFound {
		t.Fatalf("unknown link: %d", code)
	}
	tb.checkRendered(t, "the 404 page", "#notfound")
	if code := tb.open(t, goneLink, ""); code != http.StatusGone {
		t.Fatalf("a disassociated claim's link: %d", code)
	}
	tb.checkRendered(t, "the 410 page", "#gone")

	for _, c := range []struct {
		what, method, url string
		status            int
	}{
		{"the confirmation again (POST)", http.MethodPost, link, 200},
		{"an opt-out link on /decline", http.MethodPost, misused, 404},
		{"the 404 page (malformed)", http.MethodPost, link[:strings.LastIndex(link, "/")+1] + "x", 404},
		{"the 410 page (POST)", http.MethodPost, goneLink, 410},
	} {
		resp, body := fetch(t, c.method, c.url)
		if resp.StatusCode != c.status {
			t.Fatalf("%s: %d, want %d", c.what, resp.StatusCode, c.status)
		}
		checkHeaders(t, c.what, resp, body)
	}
	var ends []string
	for _, e := range history(t, &p1, a.id) {
		if e.ToStatus == "Ended" {
			ends = append(ends, e.Action+" "+e.FromStatus+">"+e.ToStatus+" "+e.Actor.Type)
		}
	}
	if strings.Join(ends, ",") != "declined Approved>Ended customer" {
		t.Errorf("ends in the history: %v", ends)
	}
	if c := apitest.Expect(t, apitest.Call(t, &p1, "GET", "/claims/"+gone.id, nil), 200).JSON(t); c["statusReason"].(map[string]any)["code"] != "partner_disassociated" {
		t.Errorf("a POST to an ended claim's link changed it: %v", c["statusReason"])
	}
	awaitMails(t, a.partnerMail, `Claim "`+markupName+`": approved`, `Claim "`+markupName+`": ended`)

	// The unit is free: another partner's claim on it is approved.
	approvedClaim(t, &p2, tenant, nil)
}
