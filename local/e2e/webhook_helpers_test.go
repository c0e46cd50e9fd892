package e2e_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/local/runner"
	"github.com/cpor-claims/claims/shared/store"
)

// The webhook receiver and the Standard Webhooks verifier the webhook tests
// and the journeys share.

var (
	hookOnce   sync.Once
	hookRunner *runner.Runner
	hookErr    error
)

// webhookRunner is a runner, started once for the webhook tests, whose
// webhook retries come after 1 s instead of 5 s ... 10 h (a schedule
// DeliverFunction honours only under stage local).
func webhookRunner(t *testing.T) *runner.Runner {
	t.Helper()
	hookOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		hookRunner, hookErr = apitest.StartRunnerWith(ctx, "hooks", runner.Config{MaxInstances: 2,
			FunctionEnv: map[string]map[string]string{
				"DeliverFunction": {"WEBHOOK_RETRY_SCHEDULE": "1s,1s,1s,1s,1s,1s,1s"},
			}})
	})
	if hookErr != nil {
		t.Fatal(hookErr)
	}
	return hookRunner
}

// received is one POST a test receiver got, and when it got it.
type received struct {
	id, timestamp, signature string
	body                     []byte
	at                       time.Time
}

// receiver is a webhook receiver on a free loopback port; answer picks the
// status of the n-th request (from 1).
type receiver struct {
	mu     sync.Mutex
	got    []received
	answer func(n int) int
	srv    *httptest.Server
}

func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	rc := &receiver{answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body, time.Now()})
		n := len(rc.got)
		rc.mu.Unlock()
		status := http.StatusNoContent
		if rc.answer != nil {
			status = rc.answer(n)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(strings.Repeat("x", 5000))) // longer than what is kept
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received{}, rc.got...)
}

func (rc *receiver) wait(t *testing.T, n int, within time.Duration) []received {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if got := rc.all(); len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// verify checks a delivery's signatures as the Standard Webhooks
// specification defines them, written here independently of the product:
// base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)) with the
// secret's bytes (base64 after "whsec_"), "v1," first, several separated by
// spaces; the timestamp within the spec's tolerance of when the delivery
// arrived (a journey checks its deliveries minutes after they came). It
// returns which of the secrets signed it.
func verify(t *testing.T, r received, secrets ...string) []bool {
	t.Helper()
	ts, err := strconv.ParseInt(r.timestamp, 10, 64)
	if err != nil || r.at.Sub(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		t.Fatalf("webhook-timestamp %q not a current Unix time when it arrived (%s)", r.timestamp, r.at.UTC().Format(time.RFC3339))
	}
	sigs := map[string]bool{}
	for _, s := range strings.Split(r.signature, " ") {
		v, sig, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			t.Fatalf("signature %q is not v1,<base64>", s)
		}
		sigs[sig] = true
	}
	signed := make([]bool, len(secrets))
	for i, secret := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if err != nil || !strings.HasPrefix(secret, "whsec_") || len(key) != 32 {
			t.Fatalf("secret %q is not whsec_ + base64 of 32 bytes", secret)
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(r.id + "." + r.timestamp + "."))
		mac.Write(r.body)
		signed[i] = sigs[base64.StdEncoding.EncodeToString(mac.Sum(nil))]
	}
	return signed
}

func register(t *testing.T, u *apitest.User, url string, statuses ...string) (id, secret string) {
	t.Helper()
	body := map[string]any{"url": url, "description": "test receiver"}
	if statuses != nil {
		body["statuses"] = statuses
	}
	w := apitest.Expect(t, apitest.Call(t, u, "POST", "/webhooks", body), 201).JSON(t)
	if w["enabled"] != true || w["url"] != url {
		t.Fatalf("webhook %v", w)
	}
	return w["id"].(string), w["secret"].(string)
}

type payload struct {
	Type      string              `json:"type"`
	Timestamp string              `json:"timestamp"`
	Data      apitest.StatusEvent `json:"data"`
	Raw       json.RawMessage     `json:"-"`
}

func decodePayload(t *testing.T, r received) payload {
	t.Helper()
	var p payload
	if err := json.Unmarshal(r.body, &p); err != nil || p.Type != "claim.status_changed" || p.Timestamp == "" {
		t.Fatalf("payload %s: %v", r.body, err)
	}
	if r.id != p.Data.EventID {
		t.Fatalf("webhook-id %q, eventId %q", r.id, p.Data.EventID)
	}
	return p
}

// journeyHook is the webhook a journey registered for one partner, at a
// receiver of its own.
type journeyHook struct {
	u      *apitest.User
	rc     *receiver
	secret string
}

// hookFor registers a webhook for u's partner (every status) at a new
// loopback receiver that answers 204.
func hookFor(t *testing.T, u *apitest.User) journeyHook {
	t.Helper()
	rc := newReceiver(t, nil)
	_, secret := register(t, u, rc.srv.URL+"/journey/"+u.Partner)
	return journeyHook{u: u, rc: rc, secret: secret}
}

// statusChanges is a claim's history's status changes (fromStatus !=
// toStatus), in order, as "from>to" (from is empty for created).
func statusChanges(t *testing.T, u *apitest.User, id string) []string {
	t.Helper()
	var out []string
	for _, e := range history(t, u, id) {
		if e.FromStatus != e.ToStatus {
			out = append(out, e.FromStatus+">"+e.ToStatus)
		}
	}
	return out
}

// checkWebhooks checks that each claim's partner webhook received a signed
// delivery for every status change in the claim's history, and no other:
// each delivery verifies with the webhook's secret (verify, not the
// product's code), its webhook-id is its eventId, the history event's id
// (store.EventID of the claim and version), and its data names the claim,
// its partner, fromStatus and toStatus. Deliveries are de-duplicated by
// webhook-id (delivery is at least once) and put in version order; a
// receiver's delivery for a claim not in claims fails. It polls until
// every change has arrived or within has passed.
func checkWebhooks(t *testing.T, within time.Duration, claims map[string]journeyHook) {
	t.Helper()
	want := map[string][]string{}
	receivers := map[*receiver]journeyHook{}
	for id, h := range claims {
		want[id] = statusChanges(t, h.u, id)
		if len(want[id]) == 0 {
			t.Fatalf("claim %s has no status change in its history", id)
		}
		receivers[h.rc] = h
	}
	deadline := time.Now().Add(within)
	for {
		byClaim := map[string]map[string]apitest.StatusEvent{} // claim -> webhook-id -> data
		for rc, h := range receivers {
			for _, g := range rc.all() {
				p := decodePayload(t, g) // also: webhook-id is the data's eventId
				if !verify(t, g, h.secret)[0] {
					t.Fatalf("delivery %s to %s's webhook does not verify with its secret (signature %q)", g.id, h.u.Partner, g.signature)
				}
				d := p.Data
				if hh, ok := claims[d.ClaimID]; !ok || hh.rc != rc || d.PartnerID != h.u.Partner {
					t.Fatalf("%s's webhook got delivery %s for claim %s of partner %s, not one of its journey claims", h.u.Partner, g.id, d.ClaimID, d.PartnerID)
				}
				if d.EventID != store.EventID(d.ClaimID, d.Version) {
					t.Fatalf("delivery %s: eventId %q is not the history event's id of claim %s version %d", g.id, d.EventID, d.ClaimID, d.Version)
				}
				if byClaim[d.ClaimID] == nil {
					byClaim[d.ClaimID] = map[string]apitest.StatusEvent{}
				}
				if prev, seen := byClaim[d.ClaimID][g.id]; seen && (prev.Version != d.Version || prev.ToStatus != d.ToStatus) {
					t.Fatalf("webhook-id %s delivered twice with different data: %+v, %+v", g.id, prev, d)
				}
				byClaim[d.ClaimID][g.id] = d
			}
		}
		complete := true
		for id, w := range want {
			if len(byClaim[id]) < len(w) {
				complete = false
			}
		}
		if complete || time.Now().After(deadline) {
			for id, w := range want {
				evs := make([]apitest.StatusEvent, 0, len(byClaim[id]))
				for _, d := range byClaim[id] {
					evs = append(evs, d)
				}
				slices.SortFunc(evs, func(a, b apitest.StatusEvent) int { return int(a.Version - b.Version) })
				var got []string
				for _, d := range evs {
					from := ""
					if d.FromStatus != nil {
						from = *d.FromStatus
					}
					got = append(got, from+">"+d.ToStatus)
				}
				if !slices.Equal(got, w) {
					t.Errorf("claim %s (%s): signed webhook deliveries, de-duplicated, in version order:\n got %q\nwant %q (its history's status changes)",
						id, claims[id].u.Partner, got, w)
				}
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
