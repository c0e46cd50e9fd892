package e2e_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/apitest"
)

// Submit records the version of each evidence object (the bucket is
// versioned, locally too) and validation reads that version: junk sent
// through the same, still valid, presigned POST right after submit changes
// nothing. Upload links live 5 minutes.
func TestSubmitPinsTheEvidenceVersion(t *testing.T) {
	u := apitest.NewUser(t, "pin-partner", true)
	id := apitest.CreateClaim(t, &u, true)
	before := time.Now()
	out := apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+id+"/evidence", map[string]any{"fileName": "sow.pdf", "contentType": "application/pdf", "size": len(apitest.PDF)}), 201).JSON(t)
	exp, err := time.Parse(time.RFC3339, out["expiresAt"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if ttl := exp.Sub(before); ttl > 5*time.Minute+2*time.Second || ttl < 4*time.Minute {
		t.Fatalf("upload link lives %s, want 5 minutes", ttl)
	}
	up := out["upload"].(map[string]any)
	if code := apitest.PostUpload(t, up, "sow.pdf", apitest.PDF); code >= 300 {
		t.Fatalf("upload refused: %d", code)
	}
	c := apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+id+"/submit", nil), 202).JSON(t)
	ev := c["evidence"].([]any)[0].(map[string]any)
	version, _ := ev["versionId"].(string)
	if ev["uploaded"] != true || version == "" {
		t.Fatalf("submit did not record the evidence's version: %v", ev)
	}
	// The link is still valid: a PNG under the declared PDF type is stored
	// as the key's newest version.
	if code := apitest.PostUpload(t, up, "sow.pdf", []byte("\x89PNG\r\n\x1a\n"+string(apitest.PDF[8:]))); code >= 300 {
		t.Fatalf("second upload through the same link refused: %d", code)
	}
	got := apitest.WaitStatus(t, &u, id, "PendingCustomer")
	if ev := got["evidence"].([]any)[0].(map[string]any); ev["versionId"] != version || ev["invalid"] != nil {
		t.Fatalf("the validated evidence is not the submitted version: %v (submitted %s)", ev, version)
	}
}

// No opt-out laundering, through the real binaries: once the customer has
// opted out of a partner's claim, that partner's new claim on the same
// tenant and product is Rejected (customer_declined_recently) with the end
// of the 90-day cool-down in its message; another partner's is not.
func TestNoClaimAgainRightAfterAnOptOut(t *testing.T) {
	u := apitest.NewUser(t, "cool-partner", true)
	other := apitest.NewUser(t, "cool-other", true)
	body := apitest.DraftBody(true)
	id := apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims", body), 201).JSON(t)["id"].(string)
	apitest.Upload(t, &u, id, apitest.PDF)
	apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+id+"/submit", nil), 202)
	apitest.WaitStatus(t, &u, id, "PendingCustomer")
	contact := body["customerContact"].(map[string]any)
	link := customerLink(t, contact["email"].(string))
	if resp, page := fetch(t, http.MethodPost, link); resp.StatusCode != http.StatusOK {
		t.Fatalf("opt-out: %d %s", resp.StatusCode, page)
	}
	optedOut := apitest.WaitStatus(t, &u, id, "OptedOut")
	at, err := time.Parse(time.RFC3339Nano, optedOut["updatedAt"].(string))
	if err != nil {
		t.Fatal(err)
	}
	ends := at.Add(90 * 24 * time.Hour).UTC().Format("2 January 2006")

	// The same customer, the same product, new contacts: once by the same
	// partner, once by another.
	claimAgain := func(who *apitest.User, tag string) string {
		b := apitest.DraftBody(true)
		b["customer"] = body["customer"]
		b["customerContact"] = map[string]any{"name": "Ana", "title": "CIO", "email": tag + "-" + contact["email"].(string)}
		id := apitest.Expect(t, apitest.Call(t, who, "POST", "/claims", b), 201).JSON(t)["id"].(string)
		apitest.Upload(t, who, id, apitest.PDF)
		apitest.Expect(t, apitest.Call(t, who, "POST", "/claims/"+id+"/submit", nil), 202)
		return id
	}
	again := claimAgain(&u, "again")
	others := claimAgain(&other, "other")
	got := apitest.WaitStatus(t, &u, again, "Rejected")
	sr := got["statusReason"].(map[string]any)
	if sr["code"] != "customer_declined_recently" || !strings.Contains(sr["message"].(string), ends) {
		t.Fatalf("a new claim right after the opt-out: %v, want customer_declined_recently until %s", sr, ends)
	}
	if n := len(mailsTo(t, "again-"+contact["email"].(string))); n != 0 {
		t.Fatalf("the customer was asked again (%d emails)", n)
	}
	apitest.WaitStatus(t, &other, others, "PendingCustomer")
}

// Key parts that are partner input cannot hold the key separator: an
// Idempotency-Key with "#" is refused (400) before anything is written.
func TestIdempotencyKeyCannotHoldTheKeySeparator(t *testing.T) {
	u := apitest.NewUser(t, "sep-partner", true)
	r := apitest.Call(t, &u, "POST", "/claims", apitest.DraftBody(false), "Idempotency-Key", "abc#IDEMP")
	if r.Status != 400 || r.Code(t) != "invalid_input" || r.Fields(t)[0] != "Idempotency-Key" {
		t.Fatalf("Idempotency-Key with #: %d %s", r.Status, r.Body)
	}
	apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims", apitest.DraftBody(false), "Idempotency-Key", "abc-IDEMP"), 201)
}
