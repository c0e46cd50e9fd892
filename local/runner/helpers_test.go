package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/runner"
	"github.com/cpor-claims/claims/local/testenv"
)

var (
	rt   *runner.Runner
	base string
)

func TestMain(m *testing.M) {
	testenv.Main(withRunner{m})
}

// withRunner starts one runner for the package's tests, inside the stack
// testenv provides.
type withRunner struct{ m *testing.M }

func (w withRunner) Run() int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var err error
	rt, err = startRunner(ctx, "api", nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "runner did not start: %v\n", err)
		return 1
	}
	defer rt.Close()
	base = rt.URL()
	return w.m.Run()
}

func startRunner(ctx context.Context, prefix string, fnEnv map[string]map[string]string) (*runner.Runner, error) {
	return startRunnerWith(ctx, prefix, runner.Config{FunctionEnv: fnEnv})
}

// startRunnerWith starts a runner with cfg and the tests' defaults for
// what cfg leaves unset.
func startRunnerWith(ctx context.Context, prefix string, cfg runner.Config) (*runner.Runner, error) {
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
		cfg.Log = logSink()
	}
	return runner.Start(ctx, cfg)
}

// using points the helpers (call, waitStatus, ...) at another runner
// until the returned func is called.
func using(r *runner.Runner) (restore func()) {
	saved := base
	base = r.URL()
	return func() { base = saved }
}

func logSink() io.Writer {
	if os.Getenv("RUNNER_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

// user is a caller with a token.
type user struct {
	partner string
	token   string
}

func newUser(t testing.TB, partner string, admin bool, mpn ...string) user {
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
	tok, err := rt.Authorizer().Token(claims)
	if err != nil {
		t.Fatal(err)
	}
	return user{partner: partner, token: tok}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", r.status, r.body)
	}
	return m
}

func (r response) code(t testing.TB) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d with content type %q: %s", r.status, ct, r.body)
	}
	c, _ := r.json(t)["code"].(string)
	return c
}

func (r response) fields(t testing.TB) []string {
	t.Helper()
	var out []string
	errs, _ := r.json(t)["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}

func call(t testing.TB, u *user, method, path string, body any, headers ...string) response {
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
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if u != nil {
		req.Header.Set("Authorization", "Bearer "+u.token)
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
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func expect(t testing.TB, r response, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

var tenantN int

// draftBody is a create body; complete adds what submit needs. Its customer
// is a tenant of its own, with a domain of its own (the customer contact's
// email is at that domain), registered in the runner's directory (base's).
func draftBody(complete bool) map[string]any {
	tenantN++
	n := time.Now().UnixNano() % 1e12
	tid := fmt.Sprintf("%08d-0000-4000-8000-%012d", tenantN, n)
	domain := fmt.Sprintf("contoso%d-%d.onmicrosoft.com", tenantN, n)
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
	if err := putDirectory(base, tid, domain); err != nil {
		panic(err)
	}
	return b
}

// inDirectory says, in the identity platform's stand-in of the runner the
// helpers call (base), that each domain belongs to tenantID. The
// tenant/domain check is on in every test: a claim passes validation only
// when its customer.domain and its customer contact's email domain are
// registered under its customer.tenantId. draftBody registers its own
// customer; a test that writes other customers or contacts registers them
// here (registerBody does it for a whole create body; withBody calls it).
func inDirectory(t testing.TB, tenantID string, domains ...string) {
	t.Helper()
	if err := putDirectory(base, tenantID, domains...); err != nil {
		t.Fatal(err)
	}
}

// registerBody registers a create body's customer domain and its customer
// contact's email domain under its customer's tenantId (inDirectory).
func registerBody(t testing.TB, b map[string]any) {
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
	inDirectory(t, tid, domains...)
}

// putDirectory is PUT {runner}/_local/directory/{domain} for each domain.
func putDirectory(runnerURL, tenantID string, domains ...string) error {
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

func createClaim(t testing.TB, u *user, complete bool) string {
	t.Helper()
	r := expect(t, call(t, u, "POST", "/claims", draftBody(complete)), 201)
	return r.json(t)["id"].(string)
}

// upload adds an evidence file and uploads content through its presigned POST.
func upload(t testing.TB, u *user, id string, content []byte) map[string]any {
	t.Helper()
	r := expect(t, call(t, u, "POST", "/claims/"+id+"/evidence", map[string]any{"fileName": "sow.pdf", "contentType": "application/pdf", "size": len(content)}), 201)
	out := r.json(t)
	up := out["upload"].(map[string]any)
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
	if resp.StatusCode >= 300 {
		t.Fatalf("upload refused: %d", resp.StatusCode)
	}
	return out["evidence"].(map[string]any)
}

var pdf = append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 200)...)

// submitted creates a complete claim with evidence and submits it.
func submitted(t testing.TB, u *user) string {
	t.Helper()
	id := createClaim(t, u, true)
	upload(t, u, id, pdf)
	expect(t, call(t, u, "POST", "/claims/"+id+"/submit", nil), 202)
	return id
}

// waitStatus polls a claim until it has status (the worker runs behind the queue).
func waitStatus(t testing.TB, u *user, id, status string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		c := expect(t, call(t, u, "GET", "/claims/"+id, nil), 200).json(t)
		if c["status"] == status {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("claim %s stayed %v, want %s", id, c["status"], status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
