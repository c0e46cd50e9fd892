package runner_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/local/runner"
	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
)

// identityPlatform plays login.microsoftonline.com's OpenID configuration
// endpoint (see shared/tenant) for the validation worker: a domain it knows
// names its tenant in the issuer; a domain marked down answers 503
// (temporarily unavailable: the worker reports the job as failed and SQS
// retries it); a gated domain's answer waits until the gate is opened.
type identityPlatform struct {
	mu      sync.Mutex
	tenants map[string]string
	down    map[string]bool
	gates   map[string]chan struct{}
	hits    map[string]int
}

func newIdentityPlatform() *identityPlatform {
	return &identityPlatform{tenants: map[string]string{}, down: map[string]bool{}, gates: map[string]chan struct{}{}, hits: map[string]int{}}
}

func (p *identityPlatform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	domain, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/v2.0/.well-known/openid-configuration")
	p.mu.Lock()
	p.hits[domain]++
	tid, down, gate := p.tenants[domain], p.down[domain], p.gates[domain]
	p.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-time.After(4 * time.Second): // under the worker's 5 s client timeout
		}
	}
	switch {
	case !ok:
		http.NotFound(w, r)
	case down:
		http.Error(w, `{"error":"temporarily_unavailable"}`, http.StatusServiceUnavailable)
	case tid == "":
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_tenant","error_codes":[90002]}`)
	default:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":"https://login.microsoftonline.com/%s/v2.0","token_endpoint":"https://login.microsoftonline.com/%s/oauth2/v2.0/token"}`, tid, tid)
	}
}

func (p *identityPlatform) set(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
}

func (p *identityPlatform) count(domain string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits[domain]
}

func actions(t *testing.T, u *apitest.User, id string) []string {
	t.Helper()
	var out []string
	for _, e := range apitest.Expect(t, apitest.Call(t, u, "GET", "/claims/"+id+"/history", nil), 200).JSON(t)["items"].([]any) {
		out = append(out, e.(map[string]any)["action"].(string))
	}
	return out
}

// The runner's poller plays the SQS event source mapping with
// ReportBatchItemFailures, through the real ValidateFunction binary and
// the real (emulated) queue: in one batch it deletes the job the worker
// validated and keeps the one it reported as failed; a job failing every
// time (the tenant lookup unavailable) is received maxReceiveCount times
// (template.yaml's RedrivePolicy) and then lands in the dead-letter queue,
// its claim still Submitted and untouched; re-driven from the DLQ with
// SQS StartMessageMoveTask (LocalStack implements it; an emulator that
// does not gets the messages received from the DLQ and sent back) once the
// lookup answers, the claim proceeds to PendingCustomer.
func TestPollerDeletesOnlySucceededJobsAndDeadLettersTheRest(t *testing.T) {
	var redrive *redrivePolicy
	for _, q := range testenv.Template().Queues() {
		if q.DeadLetterQueue != "" {
			redrive = &redrivePolicy{dlq: q.DeadLetterQueue, maxReceive: q.MaxReceiveCount}
		}
	}
	if redrive == nil || redrive.maxReceive < 2 {
		t.Fatalf("template.yaml's validation queue has no usable RedrivePolicy: %+v", redrive)
	}
	idp := newIdentityPlatform()
	srv := httptest.NewServer(idp)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := apitest.StartRunnerWith(ctx, "dlq", runner.Config{
		RetryDelay: time.Second, // the queue's visibility timeout is minutes
		Params:     map[string]string{"TenantLookupEnabled": "true", "TenantLookupBaseUrl": srv.URL},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer apitest.Use(r)()
	sq := awsclient.SQS(testenv.AWSConfig(t))
	queueURL, dlqURL, dlqARN := r.Resources().QueueURL, r.Resources().DLQURL, r.Resources().Refs[redrive.dlq+".Arn"]

	u := apitest.NewUser(t, "dlq", true)
	run := time.Now().UnixNano() % 1e9
	// draft makes a complete claim with evidence whose customer domain the
	// identity platform knows (down: answers 503 for it).
	draft := func(name string, down bool) (id, domain, contact string) {
		t.Helper()
		body := apitest.DraftBody(true)
		cust := body["customer"].(map[string]any)
		domain = fmt.Sprintf("%s-%d.example", name, run)
		cust["domain"] = domain
		// The contact's domain is another of the tenant's, always up.
		contact = "ana@contact-" + domain
		body["customerContact"].(map[string]any)["email"] = contact
		idp.set(func() {
			idp.tenants[domain], idp.down[domain] = cust["tenantId"].(string), down
			idp.tenants["contact-"+domain] = cust["tenantId"].(string)
		})
		id = apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims", body), 201).JSON(t)["id"].(string)
		apitest.Upload(t, &u, id, apitest.PDF)
		return id, domain, contact
	}
	submit := func(id string) { apitest.Expect(t, apitest.Call(t, &u, "POST", "/claims/"+id+"/submit", nil), 202) }
	gateID, gateDomain, _ := draft("gate", false)
	good, goodDomain, _ := draft("good", false)
	bad, badDomain, badContact := draft("bad", true)

	// A first job holds the worker (its lookup waits on a gate) while the
	// two jobs under test are queued, so that they come in one batch.
	gate := make(chan struct{})
	idp.set(func() { idp.gates[gateDomain] = gate })
	submit(gateID)
	apitest.WaitFor(t, "the worker to hold the gate job", 30*time.Second, func() bool { return idp.count(gateDomain) == 1 })
	submit(good)
	submit(bad)
	badBefore := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+bad, nil), 200).JSON(t)
	apitest.WaitFor(t, "both jobs on the queue", 3*time.Second, func() bool { return apitest.QueueCounts(t, sq, queueURL)[0] == 2 })
	close(gate)

	apitest.WaitFor(t, "the failing job in the dead-letter queue", 90*time.Second, func() bool { return apitest.QueueCounts(t, sq, dlqURL)[0] == 1 })

	if n := idp.count(badDomain); n != redrive.maxReceive {
		t.Fatalf("the failing job was tried %d times, want maxReceiveCount %d", n, redrive.maxReceive)
	}
	if n := idp.count(goodDomain); n != 1 {
		t.Fatalf("the good job's lookup ran %d times, want 1", n)
	}
	// The good job was deleted at once: nothing is left on the queue, not
	// even in flight (undeleted, it would stay invisible for the queue's
	// visibility timeout).
	if n := apitest.QueueCounts(t, sq, queueURL); n != [3]int{} {
		t.Fatalf("validation queue (visible, in flight, delayed) %v, want empty", n)
	}
	apitest.WaitStatus(t, &u, gateID, "PendingCustomer")
	apitest.WaitStatus(t, &u, good, "PendingCustomer")
	if got := strings.Join(actions(t, &u, good), ","); got != "created,evidence_added,submitted,customer_notified" {
		t.Fatalf("good claim's history %s", got)
	}
	// The failing claim is untouched and consistent: still Submitted at the
	// version submit gave it, its history ending with the submit.
	c := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+bad, nil), 200).JSON(t)
	if c["status"] != "Submitted" || c["version"] != badBefore["version"] || c["updatedAt"] != badBefore["updatedAt"] {
		t.Fatalf("failing claim changed: %v -> %v", badBefore, c)
	}
	if got := strings.Join(actions(t, &u, bad), ","); got != "created,evidence_added,submitted" {
		t.Fatalf("failing claim's history %s", got)
	}
	if mails := apitest.EmailsTo(t, badContact); len(mails) != 0 {
		t.Fatalf("the failing claim's customer was emailed: %v", mails)
	}

	// The identity platform answers again; the DLQ is re-driven.
	idp.set(func() { idp.down[badDomain] = false })
	moved, err := sq.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqARN)})
	if err != nil {
		t.Logf("StartMessageMoveTask refused (%v): moving the message by hand", err)
		redriveByHand(t, sq, dlqURL, queueURL)
	} else {
		t.Logf("re-driven by StartMessageMoveTask %s", aws.ToString(moved.TaskHandle))
	}
	apitest.WaitStatus(t, &u, bad, "PendingCustomer")
	if n := idp.count(badDomain); n != redrive.maxReceive+1 {
		t.Fatalf("lookups of the re-driven claim's domain: %d, want %d", n, redrive.maxReceive+1)
	}
	if got := strings.Join(actions(t, &u, bad), ","); got != "created,evidence_added,submitted,customer_notified" {
		t.Fatalf("re-driven claim's history %s", got)
	}
	apitest.WaitFor(t, "the customer's email", 10*time.Second, func() bool { return len(apitest.EmailsTo(t, badContact)) == 1 })
	apitest.WaitFor(t, "empty queues", 10*time.Second, func() bool {
		return apitest.QueueCounts(t, sq, dlqURL) == [3]int{} && apitest.QueueCounts(t, sq, queueURL) == [3]int{}
	})
}

type redrivePolicy struct {
	dlq        string
	maxReceive int
}

// redriveByHand receives every message from the DLQ, sends it back to the
// source queue and deletes it from the DLQ.
func redriveByHand(t *testing.T, sq *sqs.Client, dlqURL, queueURL string) {
	t.Helper()
	ctx := context.Background()
	for {
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &dlqURL, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return
		}
		for _, m := range out.Messages {
			if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queueURL, MessageBody: m.Body}); err != nil {
				t.Fatal(err)
			}
			if _, err := sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &dlqURL, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}
