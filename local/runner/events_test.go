package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/local/runner"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/store"
)

// POST /_local/events puts one event on the claims bus, as put-events.
func TestLocalPutEvent(t *testing.T) {
	detail := fmt.Sprintf(`{"tenantId":"t-%d","subscriptionId":"s","endedAt":"2026-01-01T00:00:00Z"}`, time.Now().UnixNano())
	r := apitest.Expect(t, apitest.Call(t, nil, "POST", "/_local/events", map[string]any{"source": "cpor.billing", "detail-type": "Subscription Ended", "detail": json.RawMessage(detail)}), 200)
	id, _ := r.JSON(t)["id"].(string)
	if id == "" {
		t.Fatalf("no id: %s", r.Body)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, e := range rt.Events() {
			if e.ID == id {
				if e.Source != "cpor.billing" || e.DetailType != "Subscription Ended" || string(e.Detail) != detail {
					t.Fatalf("event %+v", e)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s never reached the bus's tap", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// transitions commits n status changes of one new claim through the store
// (each its own transaction, as the service commits them).
func transitions(t *testing.T, r *runner.Runner, n int) string {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(awsclient.DynamoDB(cfg), r.Resources().TableName)
	now := time.Now().UTC()
	c := &claim.Claim{ID: fmt.Sprintf("evt%d", now.UnixNano()), Status: claim.StatusSubmitted, Version: 1, PartnerID: "seqpartner",
		MPNID: "1234567", Customer: claim.Customer{TenantID: "00000000-0000-4000-8000-000000000001", Domain: "contoso.onmicrosoft.com"},
		SolutionArea: "Microsoft365", Activity: "Usage", CreatedAt: now, UpdatedAt: now, Products: []claim.ProductRef{}, Evidence: []claim.Evidence{}}
	if err := st.Create(ctx, c, claim.Event{At: now, Actor: claim.Actor{Type: claim.ActorSystem, ID: "test"}, Action: claim.ActionSubmitted, ToStatus: claim.StatusSubmitted}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < n; i++ {
		next := *c
		next.Version++
		next.UpdatedAt = now.Add(time.Duration(i) * time.Millisecond)
		next.Status, next.StatusReason = claim.StatusNeedsInfo, &claim.StatusReason{Code: "evidence_missing", Message: "more"}
		action := claim.ActionMoreInfoRequested
		if c.Status == claim.StatusNeedsInfo {
			next.Status, next.StatusReason, action = claim.StatusSubmitted, nil, claim.ActionResponded
		}
		ev := claim.Event{At: next.UpdatedAt, Actor: claim.Actor{Type: claim.ActorSystem, ID: "test"}, Action: action, FromStatus: c.Status, ToStatus: next.Status}
		if err := st.Commit(ctx, store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev}); err != nil {
			t.Fatal(err)
		}
		c = &next
	}
	return c.ID
}

// checkInOrder: every version 1..n arrived, and de-duplicated by eventId
// (first delivery wins) they arrived in order.
func checkInOrder(t *testing.T, evs []apitest.StatusEvent, id string, n int) (dups int) {
	t.Helper()
	seen := map[string]bool{}
	var next int64 = 1
	for _, e := range evs {
		if seen[e.EventID] {
			dups++
			continue
		}
		seen[e.EventID] = true
		if e.Version != next || e.EventID != store.EventID(id, e.Version) {
			t.Fatalf("event %s (version %d) arrived where version %d was due", e.EventID, e.Version, next)
		}
		next++
	}
	if int(next-1) != n {
		t.Fatalf("%d distinct events, want %d", next-1, n)
	}
	return dups
}

// putRecorder stands between PublishFunction and the emulator's EventBridge
// and records, in order, the detail of every entry of every PutEvents call:
// what the function published, in the order it published it (EventBridge
// itself, in AWS as in LocalStack, delivers to its targets asynchronously,
// so a target's arrival order is not the publication order).
type putRecorder struct {
	mu      sync.Mutex
	calls   int
	details []apitest.StatusEvent
}

func (p *putRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutEvents") {
		var in struct{ Entries []struct{ Detail string } }
		_ = json.Unmarshal(body, &in)
		p.mu.Lock()
		p.calls++
		for _, e := range in.Entries {
			var d apitest.StatusEvent
			_ = json.Unmarshal([]byte(e.Detail), &d)
			p.details = append(p.details, d)
		}
		p.mu.Unlock()
	}
	target, _ := url.Parse(os.Getenv("AWS_ENDPOINT_URL"))
	r.Body = io.NopCloser(bytes.NewReader(body))
	httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
}

func (p *putRecorder) of(id string) []apitest.StatusEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []apitest.StatusEvent
	for _, d := range p.details {
		if d.ClaimID == id {
			out = append(out, d)
		}
	}
	return out
}

var (
	recOnce   sync.Once
	recRunner *runner.Runner
	recorder  = &putRecorder{}
	recErr    error
)

// recordingRunner is a runner whose PublishFunction reaches EventBridge
// through the recorder (AWS_ENDPOINT_URL_EVENTBRIDGE, the SDK's standard
// per-service endpoint variable).
func recordingRunner(t *testing.T) *runner.Runner {
	t.Helper()
	recOnce.Do(func() {
		srv := httptest.NewServer(recorder)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		recRunner, recErr = apitest.StartRunnerWith(ctx, "evrec", runner.Config{MaxInstances: 2,
			FunctionEnv: map[string]map[string]string{
				"PublishFunction": {"AWS_ENDPOINT_URL_EVENTBRIDGE": srv.URL},
			}})
	})
	if recErr != nil {
		t.Fatal(recErr)
	}
	return recRunner
}

// Events of 100 transitions of one claim are published in order, none
// missing, none twice, and all reach the bus's targets.
func TestHundredTransitionsInOrder(t *testing.T) {
	r := recordingRunner(t)
	defer apitest.Use(r)()
	id := transitions(t, r, 100)
	delivered := apitest.ClaimEvents(t, id, 100, 60*time.Second)
	if dups := checkInOrder(t, recorder.of(id), id, 100); dups != 0 {
		t.Errorf("%d duplicates without any failure", dups)
	}
	seen := map[string]bool{}
	for _, e := range delivered {
		seen[e.EventID] = true
	}
	if len(seen) != 100 || len(delivered) != 100 {
		t.Errorf("%d events (%d distinct) reached the bus's targets, want 100", len(delivered), len(seen))
	}
}

// A PublishFunction killed mid-batch (again and again) loses nothing: the
// batch is delivered again from where it failed; what it had already put
// is put again only as duplicates of the same eventId, and de-duplicated
// the events are still published in order.
func TestKilledPublisherLosesNothing(t *testing.T) {
	r := recordingRunner(t)
	defer apitest.Use(r)()
	done := make(chan struct{})
	kills := 0
	go func() {
		defer close(done)
		for i := 0; i < 8; i++ {
			time.Sleep(100 * time.Millisecond)
			if apitest.KillInstances(r, "PublishFunction") > 0 {
				kills++
			}
		}
	}()
	id := transitions(t, r, 60)
	<-done
	delivered := apitest.ClaimEvents(t, id, 60, 90*time.Second)
	dups := checkInOrder(t, recorder.of(id), id, 60)
	seen := map[string]bool{}
	for _, e := range delivered {
		seen[e.EventID] = true
	}
	if len(seen) != 60 {
		t.Errorf("%d distinct events reached the bus's targets, want 60", len(seen))
	}
	if kills == 0 {
		t.Error("PublishFunction was never killed")
	}
	t.Logf("%d kills, %d duplicates (same eventId) of 60 events", kills, dups)
}
