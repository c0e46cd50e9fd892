package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/apitest"
)

// Each status change reaches the partner's webhooks, signed; a webhook
// with statuses gets only those; another partner's webhooks get nothing.
func TestWebhookSignedDeliveries(t *testing.T) {
	r := webhookRunner(t)
	defer apitest.Use(r)()
	u := apitest.NewUser(t, fmt.Sprintf("whp%d", time.Now().UnixNano()%1e6), true)
	other := apitest.NewUser(t, fmt.Sprintf("who%d", time.Now().UnixNano()%1e6), true)
	all, others := newReceiver(t, nil), newReceiver(t, nil)
	_, secret := register(t, &u, all.srv.URL+"/hook")
	_, secret2 := register(t, &u, all.srv.URL+"/hook2", "Submitted") // same receiver, other path: its own secret
	register(t, &other, others.srv.URL)

	id := apitest.CreateClaim(t, &u, true)
	apitest.Upload(t, &u, id, apitest.PDF)
	apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+id+"/submit", nil), 202)

	// Deliveries are concurrent, so neither their order nor when validation's
	// PendingCustomer arrives is fixed: wait for what must come, then check all.
	classify := func() map[string][]string {
		bySecret := map[string][]string{}
		for _, g := range all.all() {
			p := decodePayload(t, g)
			ok := verify(t, g, secret, secret2)
			switch {
			case ok[0]:
				bySecret["all"] = append(bySecret["all"], p.Data.ToStatus)
			case ok[1]:
				bySecret["submitted"] = append(bySecret["submitted"], p.Data.ToStatus)
			default:
				t.Fatalf("delivery %s verifies with neither secret", g.id)
			}
			if p.Data.ClaimID != id || p.Data.PartnerID != u.Partner {
				t.Fatalf("data %+v", p.Data)
			}
		}
		return bySecret
	}
	has := func(list []string, status string) bool {
		return strings.Contains(" "+strings.Join(list, " ")+" ", " "+status+" ")
	}
	deadline := time.Now().Add(30 * time.Second)
	bySecret := classify()
	for !(has(bySecret["all"], "Draft") && has(bySecret["all"], "Submitted") && len(bySecret["submitted"]) > 0) {
		if time.Now().After(deadline) {
			t.Fatalf("after 30s: deliveries %v", bySecret)
		}
		time.Sleep(100 * time.Millisecond)
		bySecret = classify()
	}
	time.Sleep(time.Second)
	if got := classify()["submitted"]; fmt.Sprint(got) != "[Submitted]" {
		t.Fatalf("the webhook for Submitted only got %v", got)
	}
	if n := len(others.all()); n != 0 {
		t.Fatalf("another partner's webhook got %d deliveries", n)
	}
}

// A receiver that fails twice then succeeds gets the same webhook-id three
// times, each signed; the deliveries log shows the three attempts, the
// response kept to at most 1 KiB.
func TestWebhookRetriesKeepTheID(t *testing.T) {
	r := webhookRunner(t)
	defer apitest.Use(r)()
	u := apitest.NewUser(t, fmt.Sprintf("whr%d", time.Now().UnixNano()%1e6), true)
	rc := newReceiver(t, func(n int) int {
		if n <= 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	hook, secret := register(t, &u, rc.srv.URL)
	apitest.CreateClaim(t, &u, false)
	got := rc.wait(t, 3, 40*time.Second)
	if len(got) != 3 {
		t.Fatalf("%d deliveries, want 3", len(got))
	}
	for _, g := range got {
		if g.id != got[0].id || !verify(t, g, secret)[0] {
			t.Fatalf("delivery %q (first %q) not the same id, or not signed", g.id, got[0].id)
		}
	}
	time.Sleep(1500 * time.Millisecond)
	if n := len(rc.all()); n != 3 {
		t.Fatalf("%d deliveries after success, want 3", n)
	}
	var log struct {
		Items []struct {
			ID             string  `json:"id"`
			EventID        string  `json:"eventId"`
			Attempt        int     `json:"attempt"`
			Status         string  `json:"status"`
			ResponseStatus *int    `json:"responseStatus"`
			Error          *string `json:"error"`
		} `json:"items"`
	}
	resp := apitest.Expect(t, apitest.Call(t, &u, "GET", "/webhooks/"+hook+"/deliveries", nil), 200)
	if err := json.Unmarshal(resp.Body, &log); err != nil || len(log.Items) != 3 {
		t.Fatalf("deliveries %s", resp.Body)
	}
	if it := log.Items[0]; it.Attempt != 3 || it.Status != "succeeded" || *it.ResponseStatus != 200 || it.EventID != got[0].id {
		t.Errorf("newest attempt %+v", it)
	}
	if it := log.Items[2]; it.Attempt != 1 || it.Status == "succeeded" || *it.ResponseStatus != 503 || it.Error == nil || len(*it.Error) > 1100 {
		t.Errorf("first attempt %+v", it)
	}
	// Retry one delivery on demand: one more POST, same id.
	apitest.Expect(t, apitest.Call(t, &u, "POST", "/webhooks/"+hook+"/deliveries/"+log.Items[0].ID+"/retry", nil), 202)
	if got := rc.wait(t, 4, 20*time.Second); len(got) != 4 || got[3].id != got[0].id {
		t.Fatalf("retry: %d deliveries", len(got))
	}
}

// After a rotation both secrets sign (two signatures) until the old one
// retires; the new secret is shown once.
func TestWebhookRotation(t *testing.T) {
	r := webhookRunner(t)
	defer apitest.Use(r)()
	u := apitest.NewUser(t, fmt.Sprintf("whs%d", time.Now().UnixNano()%1e6), true)
	rc := newReceiver(t, nil)
	hook, old := register(t, &u, rc.srv.URL)
	rot := apitest.Expect(t, apitest.Call(t, &u, "POST", "/webhooks/"+hook+"/rotate-secret", nil), 200).JSON(t)
	fresh, _ := rot["secret"].(string)
	if fresh == "" || fresh == old {
		t.Fatalf("rotate: %v", rot)
	}
	apitest.CreateClaim(t, &u, false)
	got := rc.wait(t, 1, 30*time.Second)
	if len(got) != 1 {
		t.Fatal("no delivery")
	}
	if ok := verify(t, got[0], old, fresh); !ok[0] || !ok[1] || len(strings.Split(got[0].signature, " ")) != 2 {
		t.Fatalf("signatures %q: old %v new %v", got[0].signature, ok[0], ok[1])
	}
	w := apitest.Expect(t, apitest.Call(t, &u, "GET", "/webhooks/"+hook, nil), 200).JSON(t)
	if _, shown := w["secret"]; shown {
		t.Fatal("GET shows the secret")
	}
}

// A 410 answer disables the webhook: no more deliveries.
func TestWebhookGoneDisables(t *testing.T) {
	r := webhookRunner(t)
	defer apitest.Use(r)()
	u := apitest.NewUser(t, fmt.Sprintf("whg%d", time.Now().UnixNano()%1e6), true)
	rc := newReceiver(t, func(int) int { return http.StatusGone })
	hook, _ := register(t, &u, rc.srv.URL)
	apitest.CreateClaim(t, &u, false)
	rc.wait(t, 1, 30*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		w := apitest.Expect(t, apitest.Call(t, &u, "GET", "/webhooks/"+hook, nil), 200).JSON(t)
		if w["enabled"] == false {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook still enabled after 410: %v", w)
		}
		time.Sleep(100 * time.Millisecond)
	}
	apitest.CreateClaim(t, &u, false)
	time.Sleep(3 * time.Second)
	if n := len(rc.all()); n != 1 {
		t.Fatalf("%d deliveries, want 1 (disabled after the 410)", n)
	}
}

// Registration: IncentivesAdmin only, at most 10, another partner's 404,
// and no URL that is not https or reaches a non-public address.
func TestWebhookRegistrationRules(t *testing.T) {
	r := webhookRunner(t)
	defer apitest.Use(r)()
	p := fmt.Sprintf("whx%d", time.Now().UnixNano()%1e6)
	u, reader, other := apitest.NewUser(t, p, true), apitest.NewUser(t, p, false), apitest.NewUser(t, p+"o", true)
	apitest.Expect(t, apitest.Call(t, &reader, "GET", "/webhooks", nil), 403)
	apitest.Expect(t, apitest.Call(t, &reader, "POST", "/webhooks", map[string]any{"url": "https://example.com/h"}), 403)
	for _, bad := range []string{"http://example.com/h", "https://10.0.0.1/h", "https://169.254.169.254/latest", "https://[::1]/h",
		"https://[::ffff:10.1.2.3]/h", "https://[fd00::1]/h", "https://[fe80::1]/h", "https://192.168.1.1/", "https://100.64.0.1/",
		"https://user:pw@example.com/", "ftp://example.com/", "http://10.0.0.1:8080/"} {
		resp := apitest.Expect(t, apitest.Call(t, &u, "POST", "/webhooks", map[string]any{"url": bad}), 422)
		if resp.Code(t) != "invalid_input" {
			t.Errorf("%s: %s", bad, resp.Body)
		}
	}
	var ids []string
	for i := 0; i < 10; i++ {
		id, _ := register(t, &u, fmt.Sprintf("http://127.0.0.1:9/%d", i))
		ids = append(ids, id)
	}
	apitest.Expect(t, apitest.Call(t, &u, "POST", "/webhooks", map[string]any{"url": "http://127.0.0.1:9/11"}), 422)
	list := apitest.Expect(t, apitest.Call(t, &u, "GET", "/webhooks", nil), 200).JSON(t)
	if items := list["items"].([]any); len(items) != 10 || items[0].(map[string]any)["secret"] != nil {
		t.Fatalf("list %v", list)
	}
	apitest.Expect(t, apitest.Call(t, &other, "GET", "/webhooks/"+ids[0], nil), 404)
	apitest.Expect(t, apitest.Call(t, &other, "DELETE", "/webhooks/"+ids[0], nil), 404)
	apitest.Expect(t, apitest.Call(t, &u, "DELETE", "/webhooks/"+ids[0], nil), 204)
	apitest.Expect(t, apitest.Call(t, &u, "GET", "/webhooks/"+ids[0], nil), 404)
	register(t, &u, "http://localhost:9/again") // room again
}

var (
	hookMu   sync.Mutex
	hookPath = map[string]string{} // partner -> /webhooks/<id>/deliveries/<deliveryId>
)

// routePath fills a route's path parameters with resources of u's partner:
// {id} is claimID on the claim routes and one of u's webhooks on the
// webhook routes, {deliveryId} one of its deliveries (made for real: a
// webhook to a local receiver, a claim whose event it receives).
func routePath(t *testing.T, u *apitest.User, path, claimID string) string {
	t.Helper()
	if !strings.HasPrefix(path, "/webhooks/") {
		return pathWithID(t, u, path, claimID)
	}
	hookMu.Lock()
	defer hookMu.Unlock()
	p, ok := hookPath[u.Partner]
	if !ok {
		rc := newReceiver(t, nil)
		rc.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
		hook, _ := register(t, u, rc.srv.URL)
		apitest.CreateClaim(t, u, false)
		deadline := time.Now().Add(30 * time.Second)
		for p == "" {
			var log struct {
				Items []struct{ ID string } `json:"items"`
			}
			_ = json.Unmarshal(apitest.Expect(t, apitest.Call(t, u, "GET", "/webhooks/"+hook+"/deliveries", nil), 200).Body, &log)
			if len(log.Items) > 0 {
				p = "/webhooks/" + hook + "/deliveries/" + log.Items[0].ID
			} else if time.Now().After(deadline) {
				t.Fatal("no delivery to the test webhook")
			} else {
				time.Sleep(100 * time.Millisecond)
			}
		}
		hookPath[u.Partner] = p
	}
	parts := strings.Split(p, "/") // "", webhooks, <id>, deliveries, <deliveryId>
	return strings.NewReplacer("{id}", parts[2], "{deliveryId}", parts[4]).Replace(path)
}
