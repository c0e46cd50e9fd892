package runner_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

// postUpload sends content through a presigned POST upload (the answer's
// "upload") and returns storage's status.
func postUpload(t *testing.T, up map[string]any, content []byte) int {
	t.Helper()
	var body bytes.Buffer
	w := newMultipart(&body)
	for k, v := range up["fields"].(map[string]any) {
		_ = w.WriteField(k, v.(string))
	}
	fw, _ := w.CreateFormFile("file", "sow.pdf")
	_, _ = fw.Write(content)
	_ = w.Close()
	resp, err := http.Post(up["url"].(string), w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Submit records the version of each evidence object (the bucket is
// versioned, locally too) and validation reads that version: junk sent
// through the same, still valid, presigned POST right after submit changes
// nothing. Upload links live 5 minutes.
func TestSubmitPinsTheEvidenceVersion(t *testing.T) {
	u := newUser(t, "pin-partner", true)
	id := createClaim(t, &u, true)
	before := time.Now()
	out := expect(t, call(t, &u, "POST", "/claims/"+id+"/evidence", map[string]any{"fileName": "sow.pdf", "contentType": "application/pdf", "size": len(pdf)}), 201).json(t)
	exp, err := time.Parse(time.RFC3339, out["expiresAt"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if ttl := exp.Sub(before); ttl > 5*time.Minute+2*time.Second || ttl < 4*time.Minute {
		t.Fatalf("upload link lives %s, want 5 minutes", ttl)
	}
	up := out["upload"].(map[string]any)
	if code := postUpload(t, up, pdf); code >= 300 {
		t.Fatalf("upload refused: %d", code)
	}
	c := expect(t, call(t, &u, "POST", "/claims/"+id+"/submit", nil), 202).json(t)
	ev := c["evidence"].([]any)[0].(map[string]any)
	version, _ := ev["versionId"].(string)
	if ev["uploaded"] != true || version == "" {
		t.Fatalf("submit did not record the evidence's version: %v", ev)
	}
	// The link is still valid: a PNG under the declared PDF type is stored
	// as the key's newest version.
	if code := postUpload(t, up, []byte("\x89PNG\r\n\x1a\n"+string(pdf[8:]))); code >= 300 {
		t.Fatalf("second upload through the same link refused: %d", code)
	}
	got := waitStatus(t, &u, id, "PendingCustomer")
	if ev := got["evidence"].([]any)[0].(map[string]any); ev["versionId"] != version || ev["invalid"] != nil {
		t.Fatalf("the validated evidence is not the submitted version: %v (submitted %s)", ev, version)
	}
}

// No opt-out laundering, through the real binaries: once the customer has
// opted out of a partner's claim, that partner's new claim on the same
// tenant and product is Rejected (customer_declined_recently) with the end
// of the 90-day cool-down in its message; another partner's is not.
func TestNoClaimAgainRightAfterAnOptOut(t *testing.T) {
	u := newUser(t, "cool-partner", true)
	other := newUser(t, "cool-other", true)
	body := draftBody(true)
	id := expect(t, call(t, &u, "POST", "/claims", body), 201).json(t)["id"].(string)
	upload(t, &u, id, pdf)
	expect(t, call(t, &u, "POST", "/claims/"+id+"/submit", nil), 202)
	waitStatus(t, &u, id, "PendingCustomer")
	contact := body["customerContact"].(map[string]any)
	link := customerLink(t, contact["email"].(string))
	if resp, page := fetch(t, http.MethodPost, link); resp.StatusCode != http.StatusOK {
		t.Fatalf("opt-out: %d %s", resp.StatusCode, page)
	}
	optedOut := waitStatus(t, &u, id, "OptedOut")
	at, err := time.Parse(time.RFC3339Nano, optedOut["updatedAt"].(string))
	if err != nil {
		t.Fatal(err)
	}
	ends := at.Add(90 * 24 * time.Hour).UTC().Format("2 January 2006")

	// The same customer, the same product, new contacts: once by the same
	// partner, once by another.
	claimAgain := func(who *user, tag string) string {
		b := draftBody(true)
		b["customer"] = body["customer"]
		b["customerContact"] = map[string]any{"name": "Ana", "title": "CIO", "email": tag + "-" + contact["email"].(string)}
		id := expect(t, call(t, who, "POST", "/claims", b), 201).json(t)["id"].(string)
		upload(t, who, id, pdf)
		expect(t, call(t, who, "POST", "/claims/"+id+"/submit", nil), 202)
		return id
	}
	again := claimAgain(&u, "again")
	others := claimAgain(&other, "other")
	got := waitStatus(t, &u, again, "Rejected")
	sr := got["statusReason"].(map[string]any)
	if sr["code"] != "customer_declined_recently" || !strings.Contains(sr["message"].(string), ends) {
		t.Fatalf("a new claim right after the opt-out: %v, want customer_declined_recently until %s", sr, ends)
	}
	if n := len(mailsTo(t, "again-"+contact["email"].(string))); n != 0 {
		t.Fatalf("the customer was asked again (%d emails)", n)
	}
	waitStatus(t, &other, others, "PendingCustomer")
}

// Key parts that are partner input cannot hold the key separator: an
// Idempotency-Key with "#" is refused (400) before anything is written.
func TestIdempotencyKeyCannotHoldTheKeySeparator(t *testing.T) {
	u := newUser(t, "sep-partner", true)
	r := call(t, &u, "POST", "/claims", draftBody(false), "Idempotency-Key", "abc#IDEMP")
	if r.status != 400 || r.code(t) != "invalid_input" || r.fields(t)[0] != "Idempotency-Key" {
		t.Fatalf("Idempotency-Key with #: %d %s", r.status, r.body)
	}
	expect(t, call(t, &u, "POST", "/claims", draftBody(false), "Idempotency-Key", "abc-IDEMP"), 201)
}
