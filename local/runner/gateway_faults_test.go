package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/local/runner"
	"github.com/cpor-claims/claims/local/stack"
)

// syncBuffer collects a runner's log while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if os.Getenv("RUNNER_LOG") != "" {
		os.Stderr.Write(p)
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

// faultTimeout is the functions' timeout in the fault tests (the
// template's 10 s would make them slow).
const (
	faultTimeout  = 3 * time.Second
	workerTimeout = 10 * time.Second // the worker starts no job within 8 s of its deadline
)

// faultRunner starts a runner on emulators of its own, so that pausing one
// pauses nobody else's, with short function timeouts. runner.Start points
// this process's AWS variables at its stack; they are put back at once.
func faultRunner(t *testing.T, cfg runner.Config) *runner.Runner {
	t.Helper()
	defer apitest.KeepAWSEnv()()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg.OwnStack = true
	cfg.FunctionTimeout = map[string]time.Duration{}
	for _, f := range []string{"SubmitFunction", "HistoryFunction"} {
		cfg.FunctionTimeout[f] = faultTimeout
	}
	// The worker starts no job within 8 s of its deadline (its guard).
	cfg.FunctionTimeout["ValidateFunction"] = workerTimeout
	r, err := apitest.StartRunnerWith(ctx, "fault", cfg)
	if err != nil {
		t.Fatalf("runner: %v", err)
	}
	t.Cleanup(r.Close)
	return r
}

// pause stops an emulator of r's own stack until the returned func (also
// run at cleanup) resumes it.
func pause(t *testing.T, r *runner.Runner, e stack.Emulator) (resume func()) {
	t.Helper()
	if err := r.Stack().Pause(e); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	resume = func() {
		once.Do(func() {
			if err := r.Stack().Resume(e); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(resume)
	return resume
}

// gatewayError checks an answer to a request whose function hung is a 500
// that came after the function's timeout: API Gateway's own, byte for byte,
// when the function timed out; or, when the handler's call gave up at the
// same deadline a moment before, the handler's internal_error (AWS races
// the same way; never anything that reads as a success).
func gatewayError(t *testing.T, what string, r apitest.Response, took time.Duration) {
	t.Helper()
	gateway := string(r.Body) == `{"message":"Internal Server Error"}` && r.Header.Get("Content-Type") == "application/json"
	handler := r.Header.Get("Content-Type") == "application/problem+json" && strings.Contains(string(r.Body), `"code":"internal_error"`)
	if r.Status != 500 || !(gateway || handler) {
		t.Fatalf("%s: %d %q %s, want API Gateway's 500 {\"message\":\"Internal Server Error\"}", what, r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	t.Logf("%s: 500 from the %s after %s", what, map[bool]string{true: "gateway (function timed out)", false: "handler (its call gave up)"}[gateway], took.Round(time.Millisecond))
	if took < faultTimeout-100*time.Millisecond {
		t.Fatalf("%s: answered after %s, before the function's timeout %s", what, took, faultTimeout)
	}
}

// A function that times out because an emulator hangs (SIGSTOP) is
// answered as AWS answers it: API Gateway's 500 on an HTTP route, Lambda's
// X-Amz-Function-Error with the timeout's error payload on the invocation
// endpoint; the claim is untouched and the same request succeeds once the
// emulator answers again.
func TestFunctionTimeoutsAreGatewayErrors(t *testing.T) {
	idp := newIdentityPlatform()
	srv := httptest.NewServer(idp)
	defer srv.Close()
	log := &syncBuffer{}
	r := faultRunner(t, runner.Config{Log: log,
		Params: map[string]string{"TenantLookupEnabled": "true", "TenantLookupBaseUrl": srv.URL}})
	defer apitest.Use(r)()
	u := apitest.NewUser(t, "faults", true)
	body := apitest.DraftBody(true)
	cust := body["customer"].(map[string]any)
	idp.set(func() { idp.tenants[cust["domain"].(string)] = cust["tenantId"].(string) })
	id := apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims", body), 201).JSON(t)["id"].(string)
	apitest.Upload(t, &u, id, apitest.PDF)

	t.Run("submit with LocalStack paused", func(t *testing.T) {
		resume := pause(t, r, stack.LocalStack)
		start := time.Now()
		res := apitest.Call(t, &u, "POST", "/claims/"+id+"/submit", nil)
		took := time.Since(start)
		resume()
		gatewayError(t, "submit", res, took)
		if c := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+id, nil), 200).JSON(t); c["status"] != "Draft" {
			t.Fatalf("a failed submit left the claim %v", c["status"])
		}
		apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+id+"/submit", nil), 202)
	})

	t.Run("read with DynamoDB Local paused", func(t *testing.T) {
		resume := pause(t, r, stack.DynamoDB)
		start := time.Now()
		res := apitest.Call(t, &u, "GET", "/claims/"+id, nil)
		took := time.Since(start)
		resume()
		gatewayError(t, "GET /claims/{id}", res, took)
		apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+id, nil), 200)
	})

	t.Run("invocation endpoint with DynamoDB Local paused", func(t *testing.T) {
		// HistoryFunction invoked directly with the event API Gateway
		// would send for GET /claims/{id}.
		ev, _ := json.Marshal(map[string]any{
			"version": "2.0", "routeKey": "GET /claims/{id}", "rawPath": "/claims/" + id,
			"headers": map[string]string{}, "pathParameters": map[string]string{"id": id},
			"requestContext": map[string]any{
				"routeKey": "GET /claims/{id}", "http": map[string]any{"method": "GET", "path": "/claims/" + id},
				"authorizer": map[string]any{"jwt": map[string]any{"claims": map[string]string{
					"sub": "user@faults.example", "partner_id": "faults", "mpn_ids": "[1234567]", "roles": "[IncentivesAdmin]"}}},
			},
		})
		if res := apitest.Invoke(t, r.URL(), "HistoryFunction", json.RawMessage(ev)); res["statusCode"] != float64(200) {
			t.Fatalf("the event does not read the claim: %v", res)
		}
		resume := pause(t, r, stack.DynamoDB)
		start := time.Now()
		resp, err := http.Post(r.URL()+"/2015-03-31/functions/HistoryFunction/invocations", "application/json", bytes.NewReader(ev))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		resume()
		var p map[string]any
		_ = json.Unmarshal(body, &p)
		// Lambda's timeout answer; or, when the handler's call gave up at
		// the same deadline a moment before, the handler's own 500 result
		// (a result: no X-Amz-Function-Error), as on AWS.
		timedOut := resp.StatusCode == 200 && resp.Header.Get("X-Amz-Function-Error") == "Unhandled" && p["errorType"] == "Sandbox.Timedout" &&
			strings.Contains(fmt.Sprint(p["errorMessage"]), fmt.Sprintf("Task timed out after %.2f seconds", faultTimeout.Seconds()))
		gaveUp := resp.StatusCode == 200 && resp.Header.Get("X-Amz-Function-Error") == "" && p["statusCode"] == float64(500) &&
			strings.Contains(fmt.Sprint(p["body"]), `"code":"internal_error"`)
		if !timedOut && !gaveUp {
			t.Fatalf("invoke: %d X-Amz-Function-Error=%q %s, want Lambda's timeout answer", resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), body)
		}
		t.Logf("invoke: %s after %s", map[bool]string{true: "Lambda's timeout answer", false: "the handler's own 500 (its call gave up)"}[timedOut], took.Round(time.Millisecond))
		if took < faultTimeout-100*time.Millisecond {
			t.Fatalf("answered after %s, before the timeout", took)
		}
		if res := apitest.Invoke(t, r.URL(), "HistoryFunction", json.RawMessage(ev)); res["statusCode"] != float64(200) {
			t.Fatalf("after DynamoDB Local resumed: %v", res)
		}
	})

	// The queue poller with DynamoDB Local paused under the worker: the
	// job is not deleted, comes back and, once DynamoDB Local answers
	// again, the claim is validated, once.
	t.Run("queue poller with DynamoDB Local paused", func(t *testing.T) {
		// The first claim's job is done (it could have been held by the
		// pauses above), so the queue holds only this test's job.
		apitest.WaitStatus(t, &u, id, "PendingCustomer")
		apitest.WaitFor(t, "an empty queue", 30*time.Second, func() bool { return apitest.QueueCounts(t, sqsClient(t, r), r.Resources().QueueURL) == [3]int{} })
		body = apitest.DraftBody(true)
		cust = body["customer"].(map[string]any)
		domain := fmt.Sprintf("hung-%d.example", time.Now().UnixNano()%1e9)
		cust["domain"] = domain
		body["customerContact"].(map[string]any)["email"] = "ana@" + domain
		gate := make(chan struct{})
		idp.set(func() { idp.tenants[domain], idp.gates[domain] = cust["tenantId"].(string), gate })
		id = apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims", body), 201).JSON(t)["id"].(string)
		apitest.Upload(t, &u, id, apitest.PDF)
		apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+id+"/submit", nil), 202)

		// The worker holds the job (its tenant lookup waits on the gate) while
		// DynamoDB Local is paused; then its writes hang until it times out.
		apitest.WaitFor(t, "the worker to hold the job", 30*time.Second, func() bool { return idp.count(domain) == 1 })
		resume := pause(t, r, stack.DynamoDB)
		close(gate)
		// At the function's deadline the emulator answers "Task timed out"
		// (the poller: the batch failed) or, a moment before, the worker's own
		// call gives up and it reports the job failed: either way the job stays.
		const retried, reported = "worker invocation failed; the batch is retried", "validation job failed"
		before := log.count(retried) + log.count(reported)
		apitest.WaitFor(t, "the job's attempt to fail", 3*workerTimeout, func() bool { return log.count(retried)+log.count(reported) > before })
		if log.count(retried) > 0 && !strings.Contains(log.String(), "Sandbox.Timedout") {
			t.Fatalf("the failure logged is not the timeout:\n%s", log.String())
		}
		sq := sqsClient(t, r)
		if n := apitest.QueueCounts(t, sq, r.Resources().QueueURL); n[0]+n[1]+n[2] != 1 {
			t.Fatalf("validation queue (visible, in flight, delayed) %v after the failed batch, want the job still there", n)
		}
		resume()
		apitest.WaitStatus(t, &u, id, "PendingCustomer")
		if got := strings.Join(actions(t, &u, id), ","); got != "created,evidence_added,submitted,customer_notified" {
			t.Fatalf("history %s", got)
		}
		apitest.WaitFor(t, "an empty queue", 10*time.Second, func() bool { return apitest.QueueCounts(t, sq, r.Resources().QueueURL) == [3]int{} })
	})
}

// sqsClient is an SQS client on r's own LocalStack.
func sqsClient(t *testing.T, r *runner.Runner) *sqs.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(stack.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(stack.KeyID, stack.Secret, "")))
	if err != nil {
		t.Fatal(err)
	}
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(r.Stack().AWSURL) })
}
