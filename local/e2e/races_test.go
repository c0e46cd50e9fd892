package e2e_test

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
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/local/runner"
	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/store"
)

// onRunner points the helpers (apitest.Call, WaitStatus...) at another
// runner for the rest of the test.
func onRunner(t *testing.T, r *runner.Runner) {
	t.Helper()
	t.Cleanup(apitest.Use(r))
}

// post sends a JSON request without failing the test, for goroutines.
func post(u *apitest.User, path string, body any) (int, []byte, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, apitest.Base+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if u != nil {
		req.Header.Set("Authorization", "Bearer "+u.Token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

func historyActions(t *testing.T, u *apitest.User, id string) []string {
	t.Helper()
	var actions []string
	for _, e := range apitest.Expect(t, apitest.Call(t, u, "GET", "/claims/"+id+"/history", nil), 200).JSON(t)["items"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	return actions
}

// 50 partners claim the same tenant's Teams workload and submit at once;
// every claim is validated (pending competitors are not conflicts) and
// notified; then four finalize runs race after the deadline. Exactly one
// claim is Approved and holds the workload, the 49 others are Rejected
// (conflict), each with one decision in its history.
func TestFiftyPartnersRaceForOneWorkload(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	r, err := apitest.StartRunner(ctx, "race", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	onRunner(t, r)

	const n = 50
	tenant := fmt.Sprintf("5%07d-0000-4000-8000-%012d", os.Getpid()%1e7, time.Now().UnixNano()%1e12)
	users := make([]apitest.User, n)
	ids := make([]string, n)
	for i := range n {
		users[i] = apitest.NewUser(t, fmt.Sprintf("race-partner-%02d", i), true)
		body := apitest.DraftBody(true)
		body["customer"].(map[string]any)["tenantId"] = tenant
		apitest.RegisterBody(t, body)
		ids[i] = apitest.Expect(t, apitest.Call(t, &users[i], "POST", "/claims", body), 201).JSON(t)["id"].(string)
		apitest.Upload(t, &users[i], ids[i], apitest.PDF)
	}
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body, err := post(&users[i], "/claims/"+ids[i]+"/submit", nil)
			if err != nil || code != 202 {
				t.Errorf("submit %d: %d %s %v", i, code, body, err)
			}
			statuses[i] = code
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	var latest time.Time
	for i := range n {
		c := apitest.WaitStatus(t, &users[i], ids[i], "PendingCustomer")
		dl, err := time.Parse(time.RFC3339, c["optOutDeadline"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if dl.After(latest) {
			latest = dl
		}
	}

	// Four scheduled runs at once, after every deadline.
	var approved, rejected atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body, err := post(nil, "/2015-03-31/functions/FinalizeFunction/invocations", scheduled(latest.Add(time.Second)))
			var res struct{ Approved, Rejected int64 }
			if err != nil || code != 200 || json.Unmarshal(body, &res) != nil {
				t.Errorf("finalize: %d %s %v", code, body, err)
				return
			}
			approved.Add(res.Approved)
			rejected.Add(res.Rejected)
		}()
	}
	wg.Wait()
	if approved.Load() != 1 || rejected.Load() != n-1 {
		t.Fatalf("finalize runs together approved %d and rejected %d, want 1 and %d", approved.Load(), rejected.Load(), n-1)
	}
	winner := -1
	for i := range n {
		c := apitest.Expect(t, apitest.Call(t, &users[i], "GET", "/claims/"+ids[i], nil), 200).JSON(t)
		got := historyActions(t, &users[i], ids[i])
		switch c["status"] {
		case "Approved":
			winner = i
			if strings.Join(got, ",") != "created,evidence_added,submitted,customer_notified,approved" {
				t.Errorf("winner's history %v", got)
			}
		case "Rejected":
			reason, _ := c["statusReason"].(map[string]any)
			if reason["code"] != "conflict" || strings.Contains(reason["message"].(string), "race-partner") {
				t.Errorf("claim %d rejected with %v (the reason must name no other partner)", i, reason)
			}
			if strings.Join(got, ",") != "created,evidence_added,submitted,customer_notified,rejected" {
				t.Errorf("claim %d's history %v", i, got)
			}
		default:
			t.Errorf("claim %d is %v", i, c["status"])
		}
	}
	if winner < 0 {
		t.Fatal("no claim was approved")
	}
	st := store.New(awsclient.DynamoDB(testenv.AWSConfig(t)), r.Resources().TableName)
	units, err := st.Units(ctx, tenant, "teams")
	if err != nil || len(units) != 1 || units[0].ClaimID != ids[winner] || units[0].PartnerID != users[winner].Partner {
		t.Fatalf("units %+v %v, want the workload held by claim %s", units, err, ids[winner])
	}
}

// sesGate stands between the worker and SES, request by request: it holds
// a request (hold), or forwards it to LocalStack and keeps the answer from
// the worker (swallow), or forwards both ways (pass). It tells when a held
// or swallowed request arrives, so a test can kill the worker right there.
type sesGate struct {
	srv      *httptest.Server
	upstream atomic.Value // base URL of LocalStack
	mode     atomic.Value // "hold", "swallow", "pass"
	arrived  chan struct{}
	closed   chan struct{}
}

func newSESGate(t *testing.T) *sesGate {
	t.Helper()
	g := &sesGate{arrived: make(chan struct{}, 16), closed: make(chan struct{})}
	g.mode.Store("pass")
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(func() { close(g.closed); g.srv.Close() })
	return g
}

func (g *sesGate) URL() string { return g.srv.URL }

// to sets where the gate forwards: the emulator at endpoint.
func (g *sesGate) to(t *testing.T, endpoint string) {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		t.Fatalf("emulator endpoint %q: %v", endpoint, err)
	}
	g.upstream.Store(u)
}

func (g *sesGate) serve(w http.ResponseWriter, r *http.Request) {
	mode := g.mode.Load().(string)
	if mode == "hold" {
		g.arrived <- struct{}{}
		g.wait(r) // until the worker dies
		return
	}
	proxy := httputil.NewSingleHostReverseProxy(g.upstream.Load().(*url.URL))
	if mode == "pass" {
		proxy.ServeHTTP(w, r)
		return
	}
	// swallow: SES gets the request and answers; the worker never hears it.
	rec := httptest.NewRecorder()
	proxy.ServeHTTP(rec, r)
	g.arrived <- struct{}{}
	g.wait(r)
}

// wait holds a request until its client goes away or the gate closes.
func (g *sesGate) wait(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-g.closed:
	}
}

// killFunction kills every running instance of a function (the emulator and
// the function's process, as Lambda ends a sandbox), found by its binary.
func killFunction(t *testing.T, r *runner.Runner, id string) {
	t.Helper()
	if apitest.KillInstances(r, id) == 0 {
		t.Fatalf("no running %s (%s) to kill", id, r.Binary(id))
	}
}

func sqsEvent(messageID, claimID string, version float64) map[string]any {
	body, _ := json.Marshal(map[string]any{"claimId": claimID, "version": version})
	return map[string]any{"Records": []any{map[string]any{
		"messageId": messageID, "receiptHandle": "rh-" + messageID, "body": string(body), "eventSource": "aws:sqs",
		"attributes": map[string]any{"ApproximateReceiveCount": "1"},
	}}}
}

var optOutLink = regexp.MustCompile(`/opt-out/([A-Za-z0-9_-]{20,})`)

// The validation job is delivered three times (at once), and the worker is
// killed between its transaction and SES, twice: before SES has the email
// (the retry sends it once), and after SES accepted it but before the
// worker marked it sent (the one documented window: the retry sends a
// second email with a new link, and the first link stops working).
func TestRedeliveredJobAndKilledWorker(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	gate := newSESGate(t)
	r, err := apitest.StartRunner(ctx, "kill", map[string]map[string]string{
		// No job reaches the queue: the test delivers them itself.
		"SubmitFunction": {"QUEUE_URL": rt.Resources().QueueURL + "-does-not-exist"},
		// A retry may notify again once the first email can no longer be
		// on its way (RESEND_AFTER, 90 s by default).
		"ValidateFunction": {"AWS_ENDPOINT_URL_SES": gate.URL(), "RESEND_AFTER": "1s"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	onRunner(t, r)
	gate.to(t, os.Getenv("AWS_ENDPOINT_URL")) // the runner's stack (it exported its endpoints)
	u := apitest.NewUser(t, "kill-partner", true)
	newSubmitted := func() (string, float64, string) {
		body := apitest.DraftBody(true)
		id := apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims", body), 201).JSON(t)["id"].(string)
		apitest.Upload(t, &u, id, apitest.PDF)
		c := apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+id+"/submit", nil), 202).JSON(t)
		return id, c["version"].(float64), body["customerContact"].(map[string]any)["email"].(string)
	}
	deliver := func(t *testing.T, id string, version float64) {
		t.Helper()
		time.Sleep(1100 * time.Millisecond) // past RESEND_AFTER
		out := apitest.Invoke(t, r.URL(), "ValidateFunction", sqsEvent("m-"+id, id, version))
		if failed, _ := out["batchItemFailures"].([]any); len(failed) != 0 {
			t.Fatalf("delivery failed: %v", out)
		}
	}

	// killAtGate delivers the job with the gate in mode and kills the
	// worker once its SES request is held (hold) or answered (swallow).
	killAtGate := func(t *testing.T, mode, id string, version float64) {
		t.Helper()
		gate.mode.Store(mode)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _, _ = post(nil, "/2015-03-31/functions/ValidateFunction/invocations", sqsEvent("m-"+id, id, version))
		}()
		select {
		case <-gate.arrived:
		case <-time.After(30 * time.Second):
			t.Fatalf("the worker's email never reached the gate (%s)", mode)
		}
		killFunction(t, r, "ValidateFunction")
		<-done
	}

	t.Run("delivered three times at once", func(t *testing.T) {
		id, version, to := newSubmitted()
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if code, body, err := post(nil, "/2015-03-31/functions/ValidateFunction/invocations", sqsEvent("m-"+id, id, version)); err != nil || code != 200 {
					t.Errorf("delivery: %d %s %v", code, body, err)
				}
			}()
		}
		wg.Wait()
		apitest.WaitStatus(t, &u, id, "PendingCustomer")
		if got := strings.Join(historyActions(t, &u, id), ","); got != "created,evidence_added,submitted,customer_notified" {
			t.Fatalf("history %s, want one transition", got)
		}
		if n := len(apitest.EmailsTo(t, to)); n != 1 {
			t.Fatalf("%d emails to the customer %s, want 1", n, to)
		}
	})

	t.Run("killed before SES has the email", func(t *testing.T) {
		id, version, to := newSubmitted()
		killAtGate(t, "hold", id, version)
		if c := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+id, nil), 200).JSON(t); c["status"] != "PendingCustomer" || c["customerNotifiedAt"] != nil {
			t.Fatalf("after the kill: %v, notified %v; want PendingCustomer with the email not confirmed", c["status"], c["customerNotifiedAt"])
		}
		gate.mode.Store("pass")
		deliver(t, id, version) // SQS delivers the job again
		mails := apitest.EmailsTo(t, to)
		if len(mails) != 1 {
			t.Fatalf("%d emails, want exactly 1", len(mails))
		}
		c := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+id, nil), 200).JSON(t)
		if c["customerNotifiedAt"] == nil {
			t.Fatal("the email is not marked sent")
		}
		link := optOutLink.FindStringSubmatch(mails[0]["text"].(string))
		if link == nil {
			t.Fatalf("no link in %s", mails[0]["text"])
		}
		apitest.Expect(t, apitest.Call(t, nil, "GET", "/opt-out/"+link[1], nil), 200)
		if got := strings.Join(historyActions(t, &u, id), ","); got != "created,evidence_added,submitted,customer_notified,customer_notified" {
			t.Fatalf("history %s: the transition and its renewed link", got)
		}
	})

	t.Run("killed after SES accepted the email", func(t *testing.T) {
		id, version, to := newSubmitted()
		killAtGate(t, "swallow", id, version)
		gate.mode.Store("pass")
		deliver(t, id, version)
		mails := apitest.EmailsTo(t, to)
		if len(mails) != 2 {
			t.Fatalf("%d emails, want 2 (the documented window)", len(mails))
		}
		first, second := optOutLink.FindStringSubmatch(mails[0]["text"].(string)), optOutLink.FindStringSubmatch(mails[1]["text"].(string))
		if first == nil || second == nil || first[1] == second[1] {
			t.Fatalf("links %v %v: want two different links", first, second)
		}
		apitest.Expect(t, apitest.Call(t, nil, "GET", "/opt-out/"+first[1], nil), 410) // superseded
		apitest.Expect(t, apitest.Call(t, nil, "GET", "/opt-out/"+second[1], nil), 200)
	})
}
