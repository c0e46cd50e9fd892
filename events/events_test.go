// Package events_test runs the sample events of this folder through their
// handlers, in process, against the local stack: a sample that drifts from
// the handlers breaks the build. The same files serve `sam local invoke -e`:
// the samples local/cmd/samlocal invokes through the functions' binaries
// are its to drive and check, and are only decoded here (samLocalsOwn).
package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/api"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/evidence"
	"github.com/cpor-claims/claims/shared/finalize"
	"github.com/cpor-claims/claims/shared/httpapi"
	"github.com/cpor-claims/claims/shared/mail"
	"github.com/cpor-claims/claims/shared/optout"
	"github.com/cpor-claims/claims/shared/queue"
	"github.com/cpor-claims/claims/shared/service"
	"github.com/cpor-claims/claims/shared/store"
	"github.com/cpor-claims/claims/shared/subscriptions"
	"github.com/cpor-claims/claims/shared/validation"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const sampleID = "01a20d0c-0000-7000-8000-000000000001"

var used = map[string]bool{}

func load(t *testing.T, name string, dst any, replace ...string) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(replace); i += 2 {
		s = strings.ReplaceAll(s, replace[i], replace[i+1])
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	used[name] = true
}

type noJobs struct{ sent []queue.Job }

func (n *noJobs) Send(_ context.Context, j queue.Job) error { n.sent = append(n.sent, j); return nil }

func TestEverySampleEventDrivesItsHandler(t *testing.T) {
	ctx := context.Background()
	res := testenv.Provision(t)
	cfg := testenv.AWSConfig(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := store.New(awsclient.DynamoDB(cfg), res.TableName)
	s3c := awsclient.S3(cfg)
	bucket := evidence.New(s3c, res.BucketName)
	jobs := &noJobs{}
	a := &api.API{Service: service.New(st, bucket, jobs, log)}
	create, submit, history := api.Router(a.CreateRoutes()), api.Router(a.SubmitRoutes()), api.Router(a.HistoryRoutes())
	cal, _ := claim.NewCalendar("America/Los_Angeles", "US")
	mailer, err := mail.New(awsclient.SES(cfg), res.Sender, cal.Location())
	if err != nil {
		t.Fatal(err)
	}
	notified := time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)
	worker := &validation.Worker{Store: st, Evidence: bucket, Mail: mailer, Calendar: cal, Clock: func() time.Time { return notified },
		PublicBaseURL: "https://claims.example.com", Log: log}
	fin := &finalize.Finalizer{Store: st, Jobs: jobs, Mail: mailer, Clock: time.Now, Log: log,
		Stage: finalize.LocalStage} // as make run and make test deploy it: the sample's time moves the clock
	opt := &optout.Handler{Store: st, Mail: mailer, Location: cal.Location(), Clock: time.Now, Log: log}

	do := func(r *httpapi.Router, req events.APIGatewayV2HTTPRequest, want int) map[string]any {
		t.Helper()
		resp, err := r.Serve(ctx, req)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("%s %s: %d %v %s", req.RouteKey, req.RawPath, resp.StatusCode, err, resp.Body)
		}
		var out map[string]any
		_ = json.Unmarshal([]byte(resp.Body), &out)
		return out
	}
	serve := func(r *httpapi.Router, name string, want int, replace ...string) map[string]any {
		t.Helper()
		var req events.APIGatewayV2HTTPRequest
		load(t, name, &req, replace...)
		return do(r, req, want)
	}
	// The claims this test's samples act on are made by requests built here
	// (setup), not by the samples samlocal drives: each sample is driven once.
	newClaim := func(key string) map[string]any {
		return do(create, setup("POST", "/claims", "", sampleCreate, "idempotency-key", key), 201)
	}
	patch := func(id string) { do(create, setup("PATCH", "/claims/{id}", id, samplePatch), 200) }
	addEvidence := func(id string) map[string]any {
		return do(create, setup("POST", "/claims/{id}/evidence", id, sampleEvidence), 201)
	}
	submitClaim := func(id string) map[string]any { return do(submit, setup("POST", "/claims/{id}/submit", id, ""), 202) }
	c := newClaim("setup-key-1")
	id := c["id"].(string)
	if again := newClaim("setup-key-1"); again["id"] != id {
		t.Fatal("the Idempotency-Key did not replay the claim")
	}
	other := newClaim("setup-key-2")["id"].(string)
	patch(id)
	ev := addEvidence(id)["evidence"].(map[string]any)
	body := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 48213-9)...)
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(res.BucketName), Key: aws.String(evidence.Key(id, ev["id"].(string))),
		Body: bytes.NewReader(body), ContentType: aws.String("application/pdf")}); err != nil {
		t.Fatal(err)
	}
	sub := submitClaim(id)
	if sub["status"] != "Submitted" || len(jobs.sent) != 1 {
		t.Fatalf("submit: %v, jobs %v", sub["status"], jobs.sent)
	}
	// A batch with the claim's job and a poison message, as SQS delivers it.
	batch := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "job-" + id, Body: `{"claimId":"` + id + `","version":` + itoa(sub["version"]) + `}`, EventSource: "aws:sqs"},
		{MessageId: "poison", Body: "{not a job", EventSource: "aws:sqs", Attributes: map[string]string{"ApproximateReceiveCount": "3"}},
	}}
	out, err := worker.Handle(ctx, batch)
	if err != nil || len(out.BatchItemFailures) != 1 || out.BatchItemFailures[0].ItemIdentifier != batch.Records[1].MessageId {
		t.Fatalf("validation batch: %+v %v (want only the poison message failed)", out, err)
	}
	got, _ := st.Get(ctx, id)
	if got.Status != claim.StatusPendingCustomer {
		t.Fatalf("after the batch: %s", got.Status)
	}

	// A claim whose proof is unreadable needs information; it is answered
	// (respond-claim.json) with the file still unreadable, rejected at its
	// respond-by date by the finalize run below, then disputed
	// (dispute-claim.json).
	put := func(claimID, evID string, content []byte) {
		t.Helper()
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(res.BucketName), Key: aws.String(evidence.Key(claimID, evID)),
			Body: bytes.NewReader(content), ContentType: aws.String("application/pdf")}); err != nil {
			t.Fatal(err)
		}
	}
	validate := func(claimID string, version any, want claim.Status) {
		t.Helper()
		job := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "job-" + claimID, Body: `{"claimId":"` + claimID + `","version":` + itoa(version) + `}`}}}
		if out, err := worker.Handle(ctx, job); err != nil || len(out.BatchItemFailures) != 0 {
			t.Fatalf("validating %s: %+v %v", claimID, out, err)
		}
		if c, _ := st.Get(ctx, claimID); c.Status != want {
			t.Fatalf("validated %s: %s, want %s", claimID, c.Status, want)
		}
	}
	asked := newClaim("setup-key-3")["id"].(string)
	patch(asked)
	scan := addEvidence(asked)["evidence"].(map[string]any)
	put(asked, scan["id"].(string), append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte("x"), 100)...))
	validate(asked, submitClaim(asked)["version"], claim.StatusNeedsInfo)
	// The answer brings another file, unreadable too.
	rescan := addEvidence(asked)["evidence"].(map[string]any)
	put(asked, rescan["id"].(string), append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte("y"), 100)...))
	answered := serve(submit, "respond-claim.json", 202, sampleID, asked)
	if answered["status"] != "Submitted" {
		t.Fatalf("respond: %v", answered["status"])
	}
	validate(asked, answered["version"], claim.StatusNeedsInfo)

	// Discarding a Draft removes it and its evidence objects.
	otherEv := addEvidence(other)["evidence"].(map[string]any)
	put(other, otherEv["id"].(string), body)
	serve(create, "delete-claim.json", 204, sampleID, other)
	if _, err := st.Get(ctx, other); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the discarded draft: %v", err)
	}
	if _, err := bucket.Stat(ctx, evidence.Key(other, otherEv["id"].(string))); !errors.Is(err, evidence.ErrMissing) {
		t.Fatalf("the discarded draft's evidence object: %v", err)
	}
	if tpl := serve(history, "get-evidence-template.json", 200); !strings.HasPrefix(tpl["url"].(string), "http") {
		t.Fatalf("evidence template: %v", tpl)
	}

	// A scheduled run at the opt-out deadline and the respond-by date.
	r, err := fin.Handle(ctx, finalize.Event{ScheduledTime: time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)})
	if err != nil || r.Approved != 1 || r.Rejected != 1 {
		t.Fatalf("finalize at the opt-out deadline and the respond-by date: %+v %v", r, err)
	}
	if c, _ := st.Get(ctx, asked); c.Status != claim.StatusRejected || c.StatusReason.Code != claim.ReasonNoResponse {
		t.Fatalf("the unanswered claim: %s %+v", c.Status, c.StatusReason)
	}
	// Both files were refused: they are no proof, so the dispute needs a
	// readable one (evidence may be added while Rejected, before disputing).
	serve(submit, "dispute-claim.json", 422, sampleID, asked)
	readable := addEvidence(asked)["evidence"].(map[string]any)
	put(asked, readable["id"].(string), body)
	if d := serve(submit, "dispute-claim.json", 202, sampleID, asked); d["status"] != "Submitted" {
		t.Fatalf("dispute: %v", d["status"])
	}
	actions := func(claimID string) string {
		t.Helper()
		_, evs, err := st.ClaimHistory(ctx, claimID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range evs {
			out = append(out, string(e.Action))
		}
		return strings.Join(out, ",")
	}
	if got := actions(asked); got != "created,updated,evidence_added,submitted,more_info_requested,evidence_added,responded,more_info_requested,rejected,evidence_added,disputed" {
		t.Fatalf("history of the answered claim: %s", got)
	}
	if got := actions(id); got != "created,updated,evidence_added,submitted,customer_notified,approved" {
		t.Fatalf("history %v", got)
	}

	// The second half (v2): the CSV export, the partner's disassociation of
	// the approved claim, and billing's Subscription Ended event.
	csvReq := events.APIGatewayV2HTTPRequest{}
	load(t, "list-claims-csv.json", &csvReq)
	if resp, err := history.Serve(ctx, csvReq); err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Headers["Content-Type"], "text/csv") ||
		!strings.HasPrefix(resp.Body, "id,status,") {
		t.Fatalf("list-claims-csv: %d %v %v\n%s", resp.StatusCode, err, resp.Headers, resp.Body)
	}
	after := api.Router((&api.After{API: *a, Mail: mailer}).AssociationsRoutes())
	held := serve(after, "list-associations.json", 200)["items"].([]any)
	if len(held) == 0 || held[0].(map[string]any)["claimId"] != id {
		t.Fatalf("list-associations: %v", held)
	}
	if d := serve(after, "disassociate-claim.json", 200, sampleID, id); d["status"] != "Ended" ||
		d["statusReason"].(map[string]any)["code"] != "partner_disassociated" {
		t.Fatalf("disassociate: %v", d)
	}
	ended := seedApprovedSubscription(t, st, "9b2c4d6e-1111-4222-8333-444455556666", "0d1e2f3a-aaaa-4bbb-8ccc-ddddeeeeffff")
	var subBatch events.SQSEvent
	load(t, "subscription-ended.json", &subBatch)
	subs := &subscriptions.Worker{Store: st, Mail: mailer, Clock: time.Now, Log: log}
	for range 2 { // redelivered: the second changes nothing
		if out, err := subs.Handle(ctx, subBatch); err != nil || len(out.BatchItemFailures) != 0 {
			t.Fatalf("subscription-ended: %+v %v", out, err)
		}
	}
	// The decline samples: the link's token seeded for a second approved
	// claim; GET shows it, POST ends it (customer_declined).
	declined := seedApprovedSubscription(t, st, "9b2c4d6e-1111-4222-8333-444455557777", "0d1e2f3a-aaaa-4bbb-8ccc-ddddeeee0000")
	seedDeclineToken(t, st, "c2FtcGxlIGRlY2xpbmUgdG9rZW4sIDMyIGJ5dGVzISE", declined)
	for _, step := range [][2]string{{"decline-page.json", `id="decline"`}, {"decline-post.json", `id="confirmation"`}} {
		name, want := step[0], step[1]
		var dreq events.APIGatewayV2HTTPRequest
		load(t, name, &dreq)
		if resp, err := opt.Route(ctx, dreq); err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Body, want) {
			t.Fatalf("%s: %d %v %s", name, resp.StatusCode, err, resp.Body)
		}
	}
	if c, err := st.Get(ctx, declined); err != nil || c.Status != claim.StatusEnded || c.StatusReason.Code != claim.ReasonCustomerDeclined {
		t.Fatalf("declined: %+v %v", c, err)
	}
	c2, evs, err := st.ClaimHistory(ctx, ended)
	if err != nil || c2.Status != claim.StatusEnded || c2.StatusReason.Code != claim.ReasonSubscriptionEnded ||
		evs[len(evs)-1].Action != claim.ActionSubscriptionEnded || evs[len(evs)-2].Action != claim.ActionApproved {
		t.Fatalf("subscription ended: %+v %+v %v", c2, evs, err)
	}
	eventsOut(t, res)
	samLocalsOwn(t)

	files, _ := filepath.Glob("*.json")
	for _, f := range files {
		if !used[f] {
			t.Errorf("sample %s is used by no test", f)
		}
	}
	if !slices.Contains(files, "create-claim.json") {
		t.Fatal("samples not found")
	}
}

// Each sample is driven once: by this test through its handler in
// process, or by `samlocal invoke` (local/cmd/samlocal/checks.go, part of
// make test) through its function's binary under sam local invoke, which
// checks its answer and what it left behind. A sample samlocal invokes is
// only decoded here (strictly, as its function receives it); this test's
// own claims are set up by requests it builds (setup).

// samLocalsOwn checks that samlocal's steps still invoke every sample this
// test leaves to it, and decodes those.
func samLocalsOwn(t *testing.T) {
	t.Helper()
	steps := samLocalSteps(t)
	for name, function := range steps {
		if used[name] {
			t.Errorf("%s is driven here and by samlocal (%s): one of them owns it", name, function)
			continue
		}
		var dst any = &events.APIGatewayV2HTTPRequest{}
		switch function {
		case "ValidateFunction", "ImportFunction":
			dst = &events.SQSEvent{}
		case "FinalizeFunction":
			dst = &finalize.Event{}
		}
		load(t, name, dst)
	}
}

// samLocalSteps reads which sample each of samlocal's steps invokes, and
// with which function, from its step literals ({function: ..., event: ...}).
func samLocalSteps(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "local", "cmd", "samlocal", "checks.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	steps := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		fields := map[string]string{}
		for _, e := range lit.Elts {
			kv, ok := e.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			k, _ := kv.Key.(*ast.Ident)
			v, _ := kv.Value.(*ast.BasicLit)
			if k != nil && v != nil && v.Kind == token.STRING {
				fields[k.Name], _ = strconv.Unquote(v.Value)
			}
		}
		if fields["event"] != "" && fields["function"] != "" {
			steps[fields["event"]] = fields["function"]
		}
		return true
	})
	if len(steps) < 10 {
		t.Fatalf("found %d samlocal steps in checks.go: %v", len(steps), steps)
	}
	return steps
}

// The setup's requests: what the sample partner admin's calls carry through
// API Gateway (its JWT authorizer's claims, the route), at the samples' time.
var (
	setupAt     = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	setupClaims = map[string]string{"sub": "admin@fabrikam.example", "partner_id": "fabrikam", "partner_name": "Fabrikam Partners",
		"mpn_ids": "[1234567]", "roles": "[IncentivesAdmin]", "exp": "1893456000", "iat": "1795510000"}
)

const (
	sampleCreate = `{"name": "Contoso Teams rollout", "mpnId": "1234567", "customer": {"tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",` +
		` "domain": "contoso.onmicrosoft.com", "name": "Contoso Ltd"}, "solutionArea": "Microsoft365", "activity": "Usage",` +
		` "products": [{"id": "teams"}, {"id": "exchange-online"}], "customerContact": {"name": "Ana Silva", "title": "CIO",` +
		` "email": "ana.silva@contoso.example"}, "partnerContact": {"name": "Pat Partner", "email": "pat@fabrikam.example"}}`
	samplePatch    = `{"comments": "Adoption workshops done.", "customer": {"name": null}}`
	sampleEvidence = `{"fileName": "signed-sow.pdf", "contentType": "application/pdf", "size": 48213}`
)

// setup is a partner request on route (its {id} filled with id) with body,
// and headers given as name, value pairs.
func setup(method, route, id, body string, headers ...string) events.APIGatewayV2HTTPRequest {
	path := strings.Replace(route, "{id}", id, 1)
	contentType := "application/json"
	if method == "PATCH" {
		contentType = "application/merge-patch+json"
	}
	req := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: method + " " + route, RawPath: path, Body: body,
		Headers: map[string]string{"content-type": contentType, "authorization": "Bearer <verified by API Gateway>"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RouteKey: method + " " + route, TimeEpoch: setupAt.UnixMilli(),
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: setupClaims}}}}
	if id != "" {
		req.PathParameters = map[string]string{"id": id}
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Headers[headers[i]] = headers[i+1]
	}
	return req
}

func itoa(v any) string { b, _ := json.Marshal(v); return string(b) }

// seedApprovedSubscription writes an approved Business Applications claim
// holding one subscription, as finalize would: the claim committed to
// Approved with its association in one transaction.
func seedApprovedSubscription(t *testing.T, st *store.Store, tenant, sub string) string {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	c := &claim.Claim{
		ID: "01a20d0c-0000-7000-8000-" + tenant[24:], Status: claim.StatusPendingCustomer, Version: 5, MPNID: "1234567", PartnerID: "fabrikam",
		Customer: claim.Customer{TenantID: tenant, Domain: "contoso.onmicrosoft.com"}, SolutionArea: claim.BusinessApplications,
		Activity: claim.ActivityUsage, Products: []claim.ProductRef{{ID: "dynamics-365-sales", SubscriptionID: sub}},
		Evidence: []claim.Evidence{}, CreatedAt: at, UpdatedAt: at,
	}
	if err := st.Create(ctx, c, claim.Event{At: at, Action: claim.ActionCreated, ToStatus: c.Status}); err != nil {
		t.Fatal(err)
	}
	next := *c
	ev, err := claim.Apply(&next, claim.ActionApproved, claim.Actor{Type: claim.ActorSystem, ID: "finalize"}, at.Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.Approve(ctx, st, store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev}, nil); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// seedDeclineToken stores the samples' decline token for an approved claim,
// as the approving transaction does (the same item, by TokenOp).
func seedDeclineToken(t *testing.T, st *store.Store, token, claimID string) {
	t.Helper()
	ctx := context.Background()
	c, err := st.Get(ctx, claimID)
	if err != nil {
		t.Fatal(err)
	}
	op, err := st.TokenOp(store.Token{Hash: claim.HashToken(token), ClaimID: c.ID, Version: c.Version, Kind: store.TokenDecline})
	if err != nil {
		t.Fatal(err)
	}
	db := awsclient.DynamoDB(testenv.AWSConfig(t))
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(st.Table()), Item: op.Item.Put.Item}); err != nil {
		t.Fatal(err)
	}
}
