package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/audits"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/optout/optouttest"
)

// tab is one Chromium tab with JavaScript switched off, a phone's viewport
// (375 x 667, mobile: the page's viewport meta tag decides the layout
// width), and everything the browser reports about Content Security Policy
// collected: DevTools issues (Audits) and the security console.
type tab struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

func newTab(t *testing.T, browserCtx context.Context) *tab {
	t.Helper()
	tb := &tab{}
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithListener(func(ev any) {
		var p string
		switch e := ev.(type) {
		case *audits.EventIssueAdded:
			p = fmt.Sprintf("issue %s: %+v", e.Issue.Code, e.Issue.Details)
			if d := e.Issue.Details.ContentSecurityPolicyIssueDetails; d != nil {
				p = fmt.Sprintf("CSP issue: %s violated (%s) at %v", d.ViolatedDirective, d.ContentSecurityPolicyViolationType, d.SourceCodeLocation)
			}
		case *log.EventEntryAdded:
			if e.Entry.Source == log.EntrySourceSecurity || e.Entry.Source == log.EntrySourceViolation || strings.Contains(e.Entry.Text, "Content Security Policy") {
				p = fmt.Sprintf("console %s %s: %s", e.Entry.Source, e.Entry.Level, e.Entry.Text)
			}
		}
		if p != "" {
			tb.mu.Lock()
			tb.problems = append(tb.problems, p)
			tb.mu.Unlock()
		}
	}))
	t.Cleanup(cancel)
	tb.ctx = ctx
	// The tab opens here (no timeout on a tab's first run: chromedp's rule).
	if _, err := chromedp.Call(ctx, audits.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("browser: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("browser: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 667, chromedp.EmulateMobile, chromedp.EmulateScale(2))); err != nil {
		t.Fatalf("browser: %v", err)
	}
	return tb
}

// take returns the problems reported so far and forgets them.
func (tb *tab) take() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	p := tb.problems
	tb.problems = nil
	return p
}

// open loads url (or, with click, clicks that element and loads what the
// form posts to) and returns the HTTP status of the document.
func (tb *tab) open(t *testing.T, url, click string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	steps := chromedp.Navigate(url)
	if click != "" {
		steps = chromedp.Click(click)
	}
	resp, err := chromedp.RunResponse(ctx, steps)
	if err != nil {
		t.Fatalf("browser %s %s: %v", url, click, err)
	}
	return resp.Status
}

func (tb *tab) eval(t *testing.T, js string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	// DevTools' evaluation runs although the page's own scripts are off.
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// checkRendered asserts that the page shows marker, that its hashed style
// was applied (nothing blocked), that Chromium reported no CSP problem, and
// that it reads on a phone: laid out at the device's width (the viewport
// meta tag), no horizontal scrolling, text at a readable size, and the
// opt-out button, where there is one, on screen and a finger's size.
func (tb *tab) checkRendered(t *testing.T, what, marker string) {
	t.Helper()
	if got := tb.eval(t, `String(document.querySelectorAll(`+fmt.Sprintf("%q", marker)+`).length)`); got != "1" {
		t.Fatalf("%s: %s not on the page", what, marker)
	}
	if p := tb.take(); len(p) != 0 {
		t.Fatalf("%s: Chromium reported:\n%s", what, strings.Join(p, "\n"))
	}
	layout := tb.eval(t, `(() => {
		const m = getComputedStyle(document.querySelector("main")), b = getComputedStyle(document.body), p = document.querySelector("main p");
		return [innerWidth, document.documentElement.scrollWidth, document.documentElement.clientWidth, b.backgroundColor, m.maxWidth, getComputedStyle(p).fontSize].join(" ");
	})()`)
	if want := "375 375 375 rgb(246, 246, 246) 640px 16px"; layout != want {
		t.Fatalf("%s: layout (innerWidth scrollWidth clientWidth background max-width font-size) %q, want %q", what, layout, want)
	}
	if tb.eval(t, `String(!!document.querySelector("#opt-out"))`) == "true" {
		box := tb.eval(t, `(() => { const r = document.querySelector("#opt-out").getBoundingClientRect(), s = getComputedStyle(document.querySelector("#opt-out"));
			return [r.left >= 0, r.right <= innerWidth, r.height >= 44, r.width >= 200, s.backgroundColor, s.visibility].join(" "); })()`)
		if box != "true true true true rgb(164, 38, 44) visible" {
			t.Fatalf("%s: the opt-out button on a phone: %s", what, box)
		}
	}
}

var exactPageHeaders = []string{"Cache-Control", "Content-Length", "Content-Security-Policy", "Content-Type", "Date",
	"Referrer-Policy", "X-Content-Type-Options", "X-Frame-Options", "X-Robots-Tag"}

// checkHeaders asserts the exact response headers of an opt-out page as the
// gateway serves it: the function's set (the CSP naming its one style by
// hash) and the HTTP server's own Date and Content-Length, nothing else.
func checkHeaders(t *testing.T, what string, resp *http.Response, body string) {
	t.Helper()
	var names []string
	for k := range resp.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	if !slices.Equal(names, exactPageHeaders) {
		t.Fatalf("%s: headers %v, want exactly %v", what, names, exactPageHeaders)
	}
	want, err := optouttest.Headers(body)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for k, v := range want {
		if got := resp.Header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	for _, tag := range []string{`<meta name="viewport" content="width=device-width, initial-scale=1">`, `<meta name="robots" content="noindex, nofollow">`} {
		if strings.Count(body, tag) != 1 {
			t.Errorf("%s: %s missing", what, tag)
		}
	}
}

func fetch(t *testing.T, method, url string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// The customer's pages in Chromium with JavaScript off, on a phone: the
// emailed link's page, the opt-out done through the form's button, the
// same link again (already opted out), an unknown link (404) and the link
// of a withdrawn claim (410). Each page renders with its style, without a
// single CSP violation, fits a 375 px screen; each serves exactly the
// security headers. A control page with one byte of the style changed
// shows that Chromium's CSP reports do reach the test.
func TestOptOutPagesInChromium(t *testing.T) {
	u := apitest.NewUser(t, "browser-fabrikam", true)
	stamp := time.Now().UnixNano() % 1e9
	notify := func(tag string) (id, link string) {
		addr := fmt.Sprintf("ana.%s.%d@%s.onmicrosoft.com", tag, stamp, tag)
		id = withBody(t, &u, func(b map[string]any) {
			b["customer"] = map[string]any{"tenantId": fmt.Sprintf("%08d-3333-4333-8333-%012d", len(tag), stamp), "domain": tag + ".onmicrosoft.com", "name": "Contoso <Ltd>"}
			b["customerContact"] = map[string]any{"name": "Ana", "title": "CIO", "email": addr}
		})
		submitWith(t, &u, id, apitest.PDF)
		apitest.WaitStatus(t, &u, id, "PendingCustomer")
		return id, customerLink(t, addr)
	}
	optedOut, link := notify("opt")
	withdrawn, goneLink := notify("withdrawn")
	apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+withdrawn+"/withdraw", nil), 200)
	unknown, _ := claim.NewOptOutToken()
	unknownLink := link[:strings.LastIndex(link, "/")+1] + unknown

	// The form page's headers, before anything changes (a GET changes nothing).
	resp, body := fetch(t, http.MethodGet, link)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<form method="post">`) {
		t.Fatalf("the link's page: %d\n%s", resp.StatusCode, body)
	}
	checkHeaders(t, "the link's page", resp, body)

	ctx, cancel := browser(t)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil { // starts the browser
		t.Fatalf("browser: %v", err)
	}
	tb := newTab(t, ctx)

	// The control: the real page with its real headers, its style changed by
	// one byte, must be reported (and left unstyled).
	resp, body = fetch(t, http.MethodGet, unknownLink)
	tampered := strings.Replace(body, "<style>body{", "<style>body {", 1)
	if tampered == body {
		t.Fatalf("no style to tamper with:\n%s", body)
	}
	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		io.WriteString(w, tampered)
	}))
	defer control.Close()
	tb.open(t, control.URL, "")
	deadline := time.Now().Add(5 * time.Second)
	var seen []string
	for len(seen) == 0 && time.Now().Before(deadline) {
		seen = tb.take()
		time.Sleep(50 * time.Millisecond)
	}
	if len(seen) == 0 || !strings.Contains(strings.Join(seen, "\n"), "style-src") {
		t.Fatalf("a style outside the CSP's hash went unreported: %q", seen)
	}
	if bg := tb.eval(t, `getComputedStyle(document.body).backgroundColor`); bg == "rgb(246, 246, 246)" {
		t.Fatal("the tampered style was applied: the CSP did not hold")
	}
	tb.take()

	// The emailed link: the page, with nothing changed by opening it.
	if code := tb.open(t, link, ""); code != http.StatusOK {
		t.Fatalf("GET link: %d", code)
	}
	tb.checkRendered(t, "the link's page", "#opt-out")
	if c := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+optedOut, nil), 200).JSON(t); c["status"] != "PendingCustomer" {
		t.Fatalf("opening the link changed the claim: %v", c["status"])
	}
	// The button, without JavaScript: the form posts, the confirmation comes.
	if code := tb.open(t, link, "#opt-out"); code != http.StatusOK {
		t.Fatalf("POST through the button: %d", code)
	}
	tb.checkRendered(t, "the confirmation", "#confirmation")
	apitest.WaitStatus(t, &u, optedOut, "OptedOut")
	if code := tb.open(t, link, ""); code != http.StatusOK {
		t.Fatalf("the link again: %d", code)
	}
	tb.checkRendered(t, "already opted out", "#confirmation")
	if code := tb.open(t, unknownLink, ""); code != http.StatusNotFound {
		t.Fatalf("unknown link: %d", code)
	}
	tb.checkRendered(t, "the 404 page", "#notfound")
	if code := tb.open(t, goneLink, ""); code != http.StatusGone {
		t.Fatalf("withdrawn claim's link: %d", code)
	}
	tb.checkRendered(t, "the 410 page", "#gone")

	// The same pages' headers, exactly, as the gateway serves them.
	for _, c := range []struct {
		what, method, url string
		status            int
	}{
		{"already opted out (GET)", http.MethodGet, link, 200},
		{"the confirmation again (POST)", http.MethodPost, link, 200},
		{"the 404 page", http.MethodGet, unknownLink, 404},
		{"the 404 page (malformed)", http.MethodPost, link[:strings.LastIndex(link, "/")+1] + "x", 404},
		{"the 410 page", http.MethodGet, goneLink, 410},
		{"the 410 page (POST)", http.MethodPost, goneLink, 410},
	} {
		resp, body := fetch(t, c.method, c.url)
		if resp.StatusCode != c.status {
			t.Fatalf("%s: %d, want %d", c.what, resp.StatusCode, c.status)
		}
		checkHeaders(t, c.what, resp, body)
	}
	if c := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+withdrawn, nil), 200).JSON(t); c["status"] != "Withdrawn" {
		t.Fatalf("a POST to a withdrawn claim's link changed it: %v", c["status"])
	}
}
