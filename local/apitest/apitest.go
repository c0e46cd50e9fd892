// Package apitest drives the product's HTTP API on a local runner, for the
// runner's own tests (local/runner) and the product's end-to-end suite
// (local/e2e): callers with tokens, requests and their answers, claims
// built, submitted and waited for, the runner's local endpoints (emails,
// the bus's tap, the identity platform's stand-in, Lambda invoke) and the
// instances of a function.
//
// The helpers call one runner at a time: Drive names the test binary's
// runner (its tokens, its URL), Use points the calls at another one for a
// while. Tests that call another runner do not run in parallel with the
// tests that call the first.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/cpor-claims/claims/local/runner"
	"github.com/cpor-claims/claims/local/testenv"
)

var (
	// Base is the URL the helpers call: the driven runner's, or another's
	// under Use.
	Base string
	// signer is the driven runner: NewUser's tokens are its authorizer's.
	signer *runner.Runner
)

// Drive makes r the runner the helpers call and whose authorizer signs
// NewUser's tokens.
func Drive(r *runner.Runner) {
	signer, Base = r, r.URL()
}

// Main is TestMain's body for a package whose tests share one runner: in
// the stack testenv provides, it starts a runner (its resources named after
// prefix), sets *rt to it, makes it the one the helpers call (Drive), runs
// the tests and closes it. A runner that does not start fails the package.
func Main(m *testing.M, prefix string, rt **runner.Runner) {
	testenv.Main(withRunner{m, prefix, rt})
}

type withRunner struct {
	m      *testing.M
	prefix string
	rt     **runner.Runner
}

func (w withRunner) Run() int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := StartRunner(ctx, w.prefix, nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "runner did not start: %v\n", err)
		return 1
	}
	defer r.Close()
	*w.rt = r
	Drive(r)
	return w.m.Run()
}

// KeepAWSEnv saves this process's AWS variables and returns what puts them
// back: runner.Start points them at the stack it uses (a runner on a stack
// of its own), and the other tests keep theirs.
func KeepAWSEnv() (restore func()) {
	keys := []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"}
	saved := map[string]string{}
	for _, k := range keys {
		if v, ok := os.LookupEnv(k); ok {
			saved[k] = v
		}
	}
	return func() {
		for _, k := range keys {
			if v, ok := saved[k]; ok {
				os.Setenv(k, v)
			} else {
				os.Unsetenv(k)
			}
		}
	}
}

// StartRunner starts a runner with the tests' defaults, each function
// given the extra environment fnEnv names for it (StartRunnerWith).
func StartRunner(ctx context.Context, prefix string, fnEnv map[string]map[string]string) (*runner.Runner, error) {
	return StartRunnerWith(ctx, prefix, runner.Config{FunctionEnv: fnEnv})
}

// StartRunnerWith starts a runner with cfg and the tests' defaults for
// what cfg leaves unset.
func StartRunnerWith(ctx context.Context, prefix string, cfg runner.Config) (*runner.Runner, error) {
	cfg.Root = testenv.Root()
	cfg.Prefix = fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%1e6)
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.MaxInstances == 0 {
		cfg.MaxInstances = 3
	}
	if cfg.ScheduleEvery == 0 {
		cfg.ScheduleEvery = -1
	}
	if cfg.RetryDelay == 0 {
		cfg.RetryDelay = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = LogSink()
	}
	return runner.Start(ctx, cfg)
}

// Use points the helpers (Call, WaitStatus, ...) at another runner
// until the returned func is called.
func Use(r *runner.Runner) (restore func()) {
	saved := Base
	Base = r.URL()
	return func() { Base = saved }
}

// LogSink is where the runners started here log: stderr with RUNNER_LOG
// set, nowhere otherwise.
func LogSink() io.Writer {
	if os.Getenv("RUNNER_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

// User is a caller with a token.
type User struct {
	Partner string
	Token   string
}

// NewUser is a caller of partner with a token of the driven runner: an
// IncentivesAdmin when admin, holding mpn (1234567 when none given).
func NewUser(t testing.TB, partner string, admin bool, mpn ...string) User {
	t.Helper()
	claims := runner.SampleClaims(time.Now())
	claims["partner_id"], claims["partner_name"], claims["sub"] = partner, partner+" <Partners>", "user@"+partner+".example"
	if len(mpn) == 0 {
		mpn = []string{"1234567"}
	}
	ids := []any{}
	for _, m := range mpn {
		ids = append(ids, m)
	}
	claims["mpn_ids"] = ids
	claims["roles"] = []any{}
	if admin {
		claims["roles"] = []any{"IncentivesAdmin"}
	}
	tok, err := signer.Authorizer().Token(claims)
	if err != nil {
		t.Fatal(err)
	}
	return User{Partner: partner, Token: tok}
}

// Response is an answer: its status, headers and whole body.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", r.Status, r.Body)
	}
	return m
}

func (r Response) Code(t testing.TB) string {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d with content type %q: %s", r.Status, ct, r.Body)
	}
	c, _ := r.JSON(t)["code"].(string)
	return c
}

func (r Response) Fields(t testing.TB) []string {
	t.Helper()
	var out []string
	errs, _ := r.JSON(t)["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}

// Call sends method path to Base as u (without a token when u is nil);
// body is sent as is (a string or []byte) or as JSON; headers are pairs
// of name and value.
func Call(t testing.TB, u *User, method, path string, body any, headers ...string) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, Base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if u != nil {
		req.Header.Set("Authorization", "Bearer "+u.Token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Expect fails the test unless r has status, and returns r.
func Expect(t testing.TB, r Response, status int) Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

// tenantN numbers the tenants the helpers make up.
var tenantN atomic.Int64

// NewTenant is a customer tenant id no other claim has.
func NewTenant() string {
	return fmt.Sprintf("%08d-0000-4000-8000-%012d", tenantN.Add(1), time.Now().UnixNano()%1e12)
}

// DraftBody is a create body; complete adds what submit needs. Its customer
// is a tenant of its own, with a domain of its own (the customer contact's
// email is at that domain), registered in the directory of the runner the helpers call (Base's).
func DraftBody(complete bool) map[string]any {
	k, n := tenantN.Add(1), time.Now().UnixNano()%1e12
	tid := fmt.Sprintf("%08d-0000-4000-8000-%012d", k, n)
	domain := fmt.Sprintf("contoso%d-%d.onmicrosoft.com", k, n)
	b := map[string]any{
		"mpnId":        "1234567",
		"customer":     map[string]any{"tenantId": tid, "domain": domain, "name": "Contoso"},
		"solutionArea": "Microsoft365", "activity": "Usage",
	}
	if complete {
		b["name"] = "Teams rollout"
		b["products"] = []any{map[string]any{"id": "teams"}}
		b["customerContact"] = map[string]any{"name": "Ana", "title": "CIO", "email": "ana@" + domain}
		b["partnerContact"] = map[string]any{"name": "Pat", "email": "pat@fabrikam.example"}
	}
	if err := PutDirectory(Base, tid, domain); err != nil {
		panic(err)
	}
	return b
}

// InDirectory says, in the identity platform's stand-in of the runner the
// helpers call (Base), that each domain belongs to tenantID. The
// tenant/domain check is on in every test: a claim passes validation only
// when its customer.domain and its customer contact's email domain are
// registered under its customer.tenantId. DraftBody registers its own
// customer; a test that writes other customers or contacts registers them
// here (RegisterBody does it for a whole create body).
func InDirectory(t testing.TB, tenantID string, domains ...string) {
	t.Helper()
	if err := PutDirectory(Base, tenantID, domains...); err != nil {
		t.Fatal(err)
	}
}

// RegisterBody registers a create body's customer domain and its customer
// contact's email domain under its customer's tenantId (InDirectory).
func RegisterBody(t testing.TB, b map[string]any) {
	t.Helper()
	cust, _ := b["customer"].(map[string]any)
	tid, _ := cust["tenantId"].(string)
	dom, _ := cust["domain"].(string)
	domains := []string{dom}
	if cc, ok := b["customerContact"].(map[string]any); ok {
		if email, _ := cc["email"].(string); strings.Contains(email, "@") {
			domains = append(domains, email[strings.LastIndex(email, "@")+1:])
		}
	}
	InDirectory(t, tid, domains...)
}

// PutDirectory is PUT {runner}/_local/directory/{domain} for each domain.
func PutDirectory(runnerURL, tenantID string, domains ...string) error {
	for _, d := range domains {
		req, err := http.NewRequest(http.MethodPut, runnerURL+"/_local/directory/"+d, strings.NewReader(`{"tenantId":"`+tenantID+`"}`))
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("PUT /_local/directory/%s: %d %s", d, resp.StatusCode, b)
		}
	}
	return nil
}

// CreateClaim creates a claim of DraftBody(complete) as u and returns its id.
func CreateClaim(t testing.TB, u *User, complete bool) string {
	t.Helper()
	r := Expect(t, Call(t, u, "POST", "/claims", DraftBody(complete)), 201)
	return r.JSON(t)["id"].(string)
}

// Upload adds an evidence file and uploads content through its presigned POST.
func Upload(t testing.TB, u *User, id string, content []byte) map[string]any {
	t.Helper()
	r := Expect(t, Call(t, u, "POST", "/claims/"+id+"/evidence", map[string]any{"fileName": "sow.pdf", "contentType": "application/pdf", "size": len(content)}), 201)
	out := r.JSON(t)
	if status := PostUpload(t, out["upload"].(map[string]any), "sow.pdf", content); status >= 300 {
		t.Fatalf("upload refused: %d", status)
	}
	return out["evidence"].(map[string]any)
}

// PostUpload sends content as fileName through a presigned POST upload (an
// answer's "upload": its url and fields), as a browser's form would, and
// returns storage's status.
func PostUpload(t testing.TB, up map[string]any, fileName string, content []byte) int {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range up["fields"].(map[string]any) {
		_ = w.WriteField(k, v.(string))
	}
	fw, _ := w.CreateFormFile("file", fileName)
	_, _ = fw.Write(content)
	_ = w.Close()
	resp, err := http.Post(up["url"].(string), w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// PDF is evidence content that passes validation.
var PDF = append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 200)...)

// Submitted creates a complete claim with evidence and submits it.
func Submitted(t testing.TB, u *User) string {
	t.Helper()
	id := CreateClaim(t, u, true)
	Upload(t, u, id, PDF)
	Expect(t, Call(t, u, "POST", "/claims/"+id+"/submit", nil), 202)
	return id
}

// WaitStatus polls a claim until it has status (the worker runs behind the queue).
func WaitStatus(t testing.TB, u *User, id, status string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		c := Expect(t, Call(t, u, "GET", "/claims/"+id, nil), 200).JSON(t)
		if c["status"] == status {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("claim %s stayed %v, want %s", id, c["status"], status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Invoke invokes function on the runner at url through its Lambda Invoke
// endpoint and returns the function's answer; an error of the function
// fails the test.
func Invoke(t testing.TB, url, function string, event any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(event)
	resp, err := http.Post(url+"/2015-03-31/functions/"+function+"/invocations", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("invoke %s: %d %s", function, resp.StatusCode, body)
	}
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return out
}

// KillInstances kills every running instance of a function and says
// how many processes it killed.
func KillInstances(r *runner.Runner, id string) int {
	bin := r.Binary(id)
	procs, _ := filepath.Glob("/proc/[0-9]*/exe")
	killed := 0
	for _, exe := range procs {
		if target, err := os.Readlink(exe); err != nil || target != bin {
			continue
		}
		pid, _ := strconv.Atoi(strings.Split(exe, "/")[2])
		if pgid, err := syscall.Getpgid(pid); err == nil {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			killed++
		}
	}
	return killed
}

// EmailsTo are the emails the runner's SES has sent to addr
// (GET /_local/emails), in the order it lists them.
func EmailsTo(t testing.TB, addr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, e := range Expect(t, Call(t, nil, "GET", "/_local/emails", nil), 200).JSON(t)["items"].([]any) {
		m := e.(map[string]any)
		for _, to := range m["to"].([]any) {
			if to == addr {
				out = append(out, m)
			}
		}
	}
	return out
}

// CustomerRoute tells the customer's routes (opt-out and decline links):
// no authorizer, HTML answers.
func CustomerRoute(path string) bool {
	return strings.HasPrefix(path, "/opt-out/") || strings.HasPrefix(path, "/decline/")
}

// StatusEvent is the detail of a Claim Status Changed event (and a webhook
// delivery's data), decoded as its contract (shared/API.md) reads.
type StatusEvent struct {
	SchemaVersion string         `json:"schemaVersion"`
	EventID       string         `json:"eventId"`
	ClaimID       string         `json:"claimId"`
	PartnerID     string         `json:"partnerId"`
	MpnID         string         `json:"mpnId"`
	TenantID      string         `json:"tenantId"`
	FromStatus    *string        `json:"fromStatus"`
	ToStatus      string         `json:"toStatus"`
	StatusReason  map[string]any `json:"statusReason"`
	Version       int64          `json:"version"`
	At            string         `json:"at"`
}

// ClaimEvents reads GET /_local/events until want distinct events of the claim are
// there (or the deadline), and returns them in delivery order.
func ClaimEvents(t testing.TB, claimID string, want int, within time.Duration) []StatusEvent {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var out struct {
			Items []struct {
				ID         string          `json:"id"`
				Source     string          `json:"source"`
				DetailType string          `json:"detail-type"`
				Time       string          `json:"time"`
				Detail     json.RawMessage `json:"detail"`
			} `json:"items"`
		}
		r := Expect(t, Call(t, nil, "GET", "/_local/events", nil), 200)
		if err := json.Unmarshal(r.Body, &out); err != nil {
			t.Fatal(err)
		}
		var evs []StatusEvent
		distinct := map[string]bool{}
		for _, it := range out.Items {
			if it.Source != "cpor.claims" || it.DetailType != "Claim Status Changed" {
				continue
			}
			var d StatusEvent
			if err := json.Unmarshal(it.Detail, &d); err != nil {
				t.Fatalf("detail %s: %v", it.Detail, err)
			}
			if d.ClaimID == claimID {
				evs = append(evs, d)
				distinct[d.EventID] = true
			}
		}
		if len(distinct) >= want || time.Now().After(deadline) {
			return evs
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// QueueCounts is what SQS says is on a queue: visible, in flight, delayed.
func QueueCounts(t testing.TB, c *sqs.Client, url string) [3]int {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		types.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		t.Fatal(err)
	}
	var n [3]int
	for i, a := range []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages,
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, types.QueueAttributeNameApproximateNumberOfMessagesDelayed} {
		n[i], _ = strconv.Atoi(out.Attributes[string(a)])
	}
	return n
}

// WaitFor polls ok until it holds, failing the test after limit.
func WaitFor(t testing.TB, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
