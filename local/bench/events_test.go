package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/cpor-claims/claims/local/bench"
	"github.com/cpor-claims/claims/local/runner"
	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/publish"
	"github.com/cpor-claims/claims/shared/store"
)

const eventsSection = "Events out (the stream, the bus, webhooks)"

// commitTransitions commits n status changes spread over claims of
// partner (each its own transaction, as the service commits them), one
// every gap, and returns each event's commit time by eventId.
func commitTransitions(b *testing.B, st *store.Store, partner string, claims, n int, gap time.Duration) map[string]time.Time {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	cur := make([]*claim.Claim, claims)
	committed := map[string]time.Time{}
	actor := claim.Actor{Type: claim.ActorSystem, ID: "bench"}
	for i := range cur {
		c := &claim.Claim{ID: fmt.Sprintf("bev%d-%d", now.UnixNano(), i), Status: claim.StatusSubmitted, Version: 1, PartnerID: partner,
			MPNID: "1234567", Customer: claim.Customer{TenantID: "00000000-0000-4000-8000-000000000001", Domain: "contoso.onmicrosoft.com"},
			SolutionArea: "Microsoft365", Activity: "Usage", CreatedAt: now, UpdatedAt: now, Products: []claim.ProductRef{}, Evidence: []claim.Evidence{}}
		if err := st.Create(ctx, c, claim.Event{At: now, Actor: actor, Action: claim.ActionSubmitted, ToStatus: claim.StatusSubmitted}); err != nil {
			b.Fatal(err)
		}
		committed[store.EventID(c.ID, 1)] = time.Now()
		cur[i] = c
	}
	for k := claims; k < n; k++ {
		c := cur[k%claims]
		next := *c
		next.Version++
		next.UpdatedAt = time.Now().UTC()
		next.Status, next.StatusReason = claim.StatusNeedsInfo, &claim.StatusReason{Code: "evidence_missing", Message: "more"}
		action := claim.ActionMoreInfoRequested
		if c.Status == claim.StatusNeedsInfo {
			next.Status, next.StatusReason, action = claim.StatusSubmitted, nil, claim.ActionResponded
		}
		ev := claim.Event{At: next.UpdatedAt, Actor: actor, Action: action, FromStatus: c.Status, ToStatus: next.Status}
		if err := st.Commit(ctx, store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev}); err != nil {
			b.Fatal(err)
		}
		committed[store.EventID(next.ID, next.Version)] = time.Now()
		cur[k%claims] = &next
		time.Sleep(gap)
	}
	return committed
}

func percentiles(b *testing.B, metric, name string, committed, arrived map[string]time.Time, note string) {
	var ds []time.Duration
	for id, at := range committed {
		if a, ok := arrived[id]; ok {
			ds = append(ds, a.Sub(at))
		}
	}
	if len(ds) < len(committed) {
		b.Fatalf("%s: %d of %d events arrived", name, len(ds), len(committed))
	}
	p50, p99 := bench.Percentile(ds, 50), bench.Percentile(ds, 99)
	b.ReportMetric(float64(p50)/1e6, metric+"-p50-ms")
	bench.Record(bench.Figure{Section: eventsSection, Name: name, Value: "p50 " + bench.Ms(p50) + ", p99 " + bench.Ms(p99),
		Note: fmt.Sprintf("%s; n=%d", note, len(ds))})
}

// BenchmarkEventsLatency: from a transition's commit to its event reaching
// the bus's targets (the runner's tap of the claims bus), and to its
// signed webhook POST at a local receiver, over 200 transitions of 20
// claims, through the real binaries (PublishFunction fed from DynamoDB
// Local's stream, LocalStack's EventBridge, DeliverFunction).
func BenchmarkEventsLatency(b *testing.B) {
	r := theRunner(b)
	var mu sync.Mutex
	hooked := map[string]time.Time{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		id := req.Header.Get("webhook-id")
		mu.Lock()
		if _, seen := hooked[id]; !seen {
			hooked[id] = time.Now()
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	claims := runner.SampleClaims(time.Now())
	partner := fmt.Sprintf("benchev%d", time.Now().UnixNano()%1e6)
	claims["partner_id"] = partner
	tok, err := r.Authorizer().Token(claims)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"url": recv.URL + "/hook"})
	req, _ := http.NewRequest("POST", r.URL()+"/webhooks", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		b.Fatalf("register the receiver: %v %v", resp, err)
	}
	resp.Body.Close()
	st := store.New(awsclient.DynamoDB(testenv.AWSConfig(b)), r.Resources().TableName)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// The tap is watched while the transitions commit: an event's
		// arrival is when it is first seen.
		onBus := map[string]time.Time{}
		stop := make(chan struct{})
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			seen := 0
			for {
				evs := r.Events()
				for _, e := range evs[seen:] {
					var d struct {
						EventID string `json:"eventId"`
					}
					_ = json.Unmarshal(e.Detail, &d)
					mu.Lock()
					if _, ok := onBus[d.EventID]; !ok {
						onBus[d.EventID] = time.Now()
					}
					mu.Unlock()
				}
				seen = len(evs)
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		committed := commitTransitions(b, st, partner, 20, 200, 10*time.Millisecond)
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			mu.Lock()
			n := 0
			for id := range committed {
				if _, ok := onBus[id]; ok {
					n++
				}
			}
			mu.Unlock()
			if n >= len(committed) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		close(stop)
		<-watched
		for time.Now().Before(deadline) {
			mu.Lock()
			n := 0
			for id := range committed {
				if _, ok := hooked[id]; ok {
					n++
				}
			}
			mu.Unlock()
			if n >= len(committed) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		b.StopTimer()
		percentiles(b, "bus", "commit → event on the bus's targets", committed, onBus,
			"stream read every 100 ms by the runner, PutEvents, LocalStack's rule to the tap queue, the tap's long poll (observed every 5 ms)")
		mu.Lock()
		percentiles(b, "webhook", "commit → signed webhook POST received", committed, hooked,
			"as above, then the rule to the delivery queue, the poller, fan-out to a second message, the POST")
		mu.Unlock()
		b.StartTimer()
	}
}

// recEB keeps the PutEvents inputs the publisher sent, for the raw replay.
type recEB struct {
	*eventbridge.Client
	mu  sync.Mutex
	ins []*eventbridge.PutEventsInput
}

func (r *recEB) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, o ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	r.mu.Lock()
	r.ins = append(r.ins, in)
	r.mu.Unlock()
	return r.Client.PutEvents(ctx, in, o...)
}

// BenchmarkPublish: PublishFunction's handler on a stream batch of 100
// history records (10 claims, 10 transitions each) against the raw
// PutEvents calls it makes, replayed.
func BenchmarkPublish(b *testing.B) {
	res := testenv.Provision(b)
	cfg := testenv.AWSConfig(b)
	eb := &recEB{Client: eventbridge.NewFromConfig(cfg)}
	p := &publish.Publisher{Bus: eb, BusARN: res.Refs["ClaimsBus"], Attempts: 3, Backoff: 50 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	batch := streamBatch(100, 10)
	ctx := context.Background()
	pair(b, eventsSection, "PublishFunction: a stream batch of 100 status changes (10 claims)", 1.2,
		"raw: the same PutEvents calls replayed (10 entries each, one per claim, so 10 calls)", "", func(int) calls {
			// Untimed: one run records the calls the raw side replays.
			eb.mu.Lock()
			eb.ins = nil
			eb.mu.Unlock()
			if out, err := p.Handle(ctx, batch); err != nil || len(out.BatchItemFailures) > 0 {
				b.Fatalf("publish: %+v %v", out, err)
			}
			eb.mu.Lock()
			recorded := eb.ins
			eb.mu.Unlock()
			return calls{
				ours: func() {
					if out, err := p.Handle(ctx, batch); err != nil || len(out.BatchItemFailures) > 0 {
						b.Fatalf("publish: %+v %v", out, err)
					}
				},
				raw: func() {
					for _, in := range recorded {
						if out, err := eb.Client.PutEvents(ctx, in); err != nil || out.FailedEntryCount > 0 {
							b.Fatalf("raw PutEvents: %v", err)
						}
					}
				},
			}
		})
	b.ReportMetric(float64(len(batch.Records)), "events/batch")
}

// streamBatch is a DynamoDB stream event of n status changes over claims
// claims, as the stream delivers history items.
func streamBatch(n, claims int) events.DynamoDBEvent {
	var ev events.DynamoDBEvent
	s := func(v string) events.DynamoDBAttributeValue { return events.NewStringAttribute(v) }
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("benchpub-%d", i%claims)
		version := i/claims + 1
		from, to := "Submitted", "NeedsInfo"
		if version%2 == 0 {
			from, to = to, from
		}
		img := map[string]events.DynamoDBAttributeValue{
			"pk": s("CLAIM#" + id), "sk": s(fmt.Sprintf("EVT#2026-11-24T11:00:00.%09dZ#%010d", i, version)),
			"itemType": s("event"), "at": s("2026-11-24T11:00:00Z"), "action": s("responded"),
			"actor":      events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{"type": s("system"), "id": s("bench")}),
			"fromStatus": s(from), "toStatus": s(to), "version": events.NewNumberAttribute(fmt.Sprint(version)),
			"eventId": s(store.EventID(id, int64(version))), "claimId": s(id), "partnerId": s("fabrikam"), "mpnId": s("1234567"),
			"tenantId": s("00000000-0000-4000-8000-000000000001"),
		}
		ev.Records = append(ev.Records, events.DynamoDBEventRecord{EventName: "INSERT", EventSource: "aws:dynamodb",
			Change: events.DynamoDBStreamRecord{SequenceNumber: fmt.Sprintf("%021d", i+1), NewImage: img, StreamViewType: "NEW_IMAGE"}})
	}
	return ev
}
