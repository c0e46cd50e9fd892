// The benchmarks of `make bench`. Each API figure alternates, call by call,
// our handler (called directly, in process) with the raw aws-sdk-go-v2
// calls the same operation cannot avoid, replayed from what the handler
// itself sent, against the same DynamoDB Local and LocalStack, so that the
// ratio is our own overhead. TestMain writes the table to BENCH_OUT.
package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"

	"github.com/cpor-claims/claims/local/bench"
	"github.com/cpor-claims/claims/local/runner"
	"github.com/cpor-claims/claims/local/stack"
	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/api"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/claim/claimtest"
	"github.com/cpor-claims/claims/shared/evidence"
	"github.com/cpor-claims/claims/shared/finalize"
	"github.com/cpor-claims/claims/shared/httpapi"
	"github.com/cpor-claims/claims/shared/mail"
	"github.com/cpor-claims/claims/shared/queue"
	"github.com/cpor-claims/claims/shared/service"
	"github.com/cpor-claims/claims/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(report{m}) }

// report runs the benchmarks, stops the runner they started, and writes
// the table when BENCH_OUT names a file.
type report struct{ m *testing.M }

func (r report) Run() int {
	code := r.m.Run()
	if rt != nil {
		rt.Close()
	}
	figs := bench.Figures()
	out := os.Getenv("BENCH_OUT")
	if out == "" || len(figs) == 0 {
		return code
	}
	// A partial run (BENCH=...) keeps the rows it did not measure.
	if prev, err := os.ReadFile(out); err == nil {
		old, at := bench.Previous(string(prev))
		figs = bench.Merge(old, at, figs)
	}
	md := bench.Markdown(figs, time.Now(), bench.Machine(), bench.Stack(testenv.Root()))
	fmt.Print("\n" + md)
	if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return code
}

// recDB is the DynamoDB client with the inputs of the last calls kept, so
// the raw side replays exactly what the handler sent.
type recDB struct {
	*dynamodb.Client
	tx    atomic.Pointer[dynamodb.TransactWriteItemsInput]
	get   atomic.Pointer[dynamodb.GetItemInput]
	q     atomic.Pointer[dynamodb.QueryInput]
	batch atomic.Pointer[dynamodb.BatchGetItemInput]
	upd   atomic.Pointer[dynamodb.UpdateItemInput]
	// decision and mark are the last group-committed transactions of
	// finalize's decisions (claims first) and of its partner-notice marks
	// (updates).
	decision, mark atomic.Pointer[dynamodb.TransactWriteItemsInput]
}

func (r *recDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	r.upd.Store(in)
	return r.Client.UpdateItem(ctx, in, o...)
}

func (r *recDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	r.tx.Store(in)
	if len(in.TransactItems) > 0 {
		switch first := in.TransactItems[0]; {
		case first.Put != nil:
			if pk, ok := first.Put.Item["pk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, "CLAIM#") {
				r.decision.Store(in)
			}
		case first.Update != nil:
			r.mark.Store(in)
		}
	}
	return r.Client.TransactWriteItems(ctx, in, o...)
}

func (r *recDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	r.get.Store(in)
	return r.Client.GetItem(ctx, in, o...)
}

func (r *recDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	r.batch.Store(in)
	return r.Client.BatchGetItem(ctx, in, o...)
}

func (r *recDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	r.q.Store(in)
	return r.Client.Query(ctx, in, o...)
}

// recSQS keeps the last SendMessage input.
type recSQS struct {
	*sqs.Client
	send atomic.Pointer[sqs.SendMessageInput]
}

func (r *recSQS) SendMessage(ctx context.Context, in *sqs.SendMessageInput, o ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	r.send.Store(in)
	return r.Client.SendMessage(ctx, in, o...)
}

type fixture struct {
	res                     *stack.Resources
	db                      *recDB
	sqs                     *recSQS
	s3                      *s3.Client
	st                      *store.Store
	svc                     *service.Service
	create, submit, history *httpapi.Router
	mailer                  *mail.Mailer
}

var (
	fxOnce sync.Once
	fx     *fixture
	quiet  = slog.New(slog.NewTextHandler(io.Discard, nil))
)

func setup(b *testing.B) *fixture {
	b.Helper()
	fxOnce.Do(func() {
		res := testenv.Provision(b)
		cfg := testenv.AWSConfig(b)
		f := &fixture{res: res, db: &recDB{Client: awsclient.DynamoDB(cfg)}, sqs: &recSQS{Client: awsclient.SQS(cfg)}, s3: awsclient.S3(cfg)}
		f.st = store.New(f.db, res.TableName)
		f.svc = service.New(f.st, evidence.New(f.s3, res.BucketName), queue.New(f.sqs, res.QueueURL), quiet)
		a := &api.API{Service: f.svc}
		f.create, f.submit, f.history = api.Router(a.CreateRoutes()), api.Router(a.SubmitRoutes()), api.Router(a.HistoryRoutes())
		cal, err := claim.NewCalendar("America/Los_Angeles", "US")
		if err != nil {
			b.Fatal(err)
		}
		if f.mailer, err = mail.New(awsclient.SES(cfg), res.Sender, cal.Location()); err != nil {
			b.Fatal(err)
		}
		fx = f
	})
	if fx == nil {
		b.Fatal("bench fixture did not start")
	}
	return fx
}

const partner = "bench-partner"

var adminClaims = map[string]string{
	"sub": "admin@bench.example", "partner_id": partner, "partner_name": "Bench Partners",
	"mpn_ids": "[1234567]", "roles": "[IncentivesAdmin]",
}

// request is a payload 2.0 event as API Gateway hands it to the function.
func request(routeKey, path, body string, params map[string]string, headers map[string]string) events.APIGatewayV2HTTPRequest {
	method, _, _ := strings.Cut(routeKey, " ")
	h := map[string]string{"content-type": "application/json"}
	for k, v := range headers {
		h[k] = v
	}
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: routeKey, RawPath: path, Headers: h, PathParameters: params, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: routeKey, RequestID: uuid.NewString(), TimeEpoch: time.Now().UnixMilli(),
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: adminClaims}},
		},
	}
}

func serve(b *testing.B, r *httpapi.Router, req events.APIGatewayV2HTTPRequest, want int) map[string]any {
	b.Helper()
	resp, err := r.Serve(context.Background(), req)
	if err != nil || resp.StatusCode != want {
		b.Fatalf("%s: %d %v %s", req.RouteKey, resp.StatusCode, err, resp.Body)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		b.Fatalf("%s: %v", req.RouteKey, err)
	}
	return out
}

var createBody = func() string {
	c := claimtest.Complete(partner, "72f988bf-86f1-41af-91ab-2d7cd011db47", time.Now())
	body, _ := json.Marshal(map[string]any{
		"name": c.Name, "mpnId": c.MPNID, "customer": c.Customer, "solutionArea": c.SolutionArea, "activity": c.Activity,
		"products": []map[string]string{{"id": "teams"}, {"id": "exchange-online"}}, "customerContact": c.CustomerContact,
		"partnerContact": c.PartnerContact, "comments": "Rollout of Teams for 2,000 seats.",
	})
	return string(body)
}()

// newDraft creates a complete Draft with one uploaded PDF, ready to submit.
func newDraft(b *testing.B, f *fixture) string {
	b.Helper()
	c := serve(b, f.create, request(api.RouteCreateClaim, "/claims", createBody, nil, nil), 201)
	id := c["id"].(string)
	added := serve(b, f.create, request(api.RouteAddEvidence, "/claims/"+id+"/evidence",
		fmt.Sprintf(`{"fileName":"sow.pdf","contentType":"application/pdf","size":%d}`, len(claimtest.PDF)), map[string]string{"id": id}, nil), 201)
	evID := added["evidence"].(map[string]any)["id"].(string)
	if _, err := f.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(f.res.BucketName),
		Key: aws.String(evidence.Key(id, evID)), Body: bytes.NewReader(claimtest.PDF), ContentType: aws.String("application/pdf")}); err != nil {
		b.Fatal(err)
	}
	return id
}

// calls is one round of a pair: our handler, the raw calls it cannot
// avoid, and (optional) every raw call it makes.
type calls struct{ ours, raw, all func() }

// pair times ours and the raw calls alternately (the order rotates) and
// records the medians and their ratio; with an all side, a second row
// compares ours with every call the handler makes, which is our own
// overhead alone. prepare runs untimed before each round.
func pair(b *testing.B, section, name string, goal float64, note, allNote string, prepare func(i int) calls) {
	b.Helper()
	var oursD, rawD, allD []time.Duration
	timed := func(fn func()) time.Duration {
		b.StartTimer()
		start := time.Now()
		fn()
		d := time.Since(start)
		b.StopTimer()
		return d
	}
	b.StopTimer()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := prepare(i)
		steps := []func(){
			func() { oursD = append(oursD, timed(c.ours)) },
			func() { rawD = append(rawD, timed(c.raw)) },
		}
		if c.all != nil {
			steps = append(steps, func() { allD = append(allD, timed(c.all)) })
		}
		for k := range steps {
			steps[(i+k)%len(steps)]()
		}
	}
	o, r := bench.Median(oursD), bench.Median(rawD)
	ratio := float64(o) / float64(r)
	b.ReportMetric(float64(o)/1e6, "ours-ms")
	b.ReportMetric(float64(r)/1e6, "raw-ms")
	b.ReportMetric(ratio, "ratio")
	bench.Record(bench.Figure{Section: section, Name: name, Value: bench.Ms(o), Versus: bench.Ms(r),
		Ratio: fmt.Sprintf("%.2fx", ratio), Goal: "≤ " + strconv.FormatFloat(goal, 'f', -1, 64) + "x", Met: ratio <= goal,
		Note: fmt.Sprintf("%s; n=%d", note, b.N)})
	if len(allD) > 0 {
		a := bench.Median(allD)
		b.ReportMetric(float64(o)/float64(a), "ratio-all")
		bench.Record(bench.Figure{Section: section, Name: name + ", vs every call it makes", Value: bench.Ms(o), Versus: bench.Ms(a),
			Ratio: fmt.Sprintf("%.2fx", float64(o)/float64(a)), Note: fmt.Sprintf("%s; n=%d", allNote, b.N)})
	}
}

const apiSection = "API handlers vs the raw SDK calls they cannot avoid"

func BenchmarkCreate(b *testing.B) {
	f := setup(b)
	ctx := context.Background()
	var tmpl *dynamodb.TransactWriteItemsInput
	var tmplID, tmplKey string
	pair(b, apiSection, "create (POST /claims with Idempotency-Key)", 1.2,
		"raw: the TransactWriteItems of claim, `created` event and idempotency record", "",
		func(i int) calls {
			key := uuid.NewString()
			ours := func() {
				c := serve(b, f.create, request(api.RouteCreateClaim, "/claims", createBody, nil, map[string]string{"idempotency-key": key}), 201)
				if tmpl == nil {
					tmpl, tmplID, tmplKey = f.db.tx.Load(), c["id"].(string), key
				}
			}
			if tmpl == nil {
				ours()
				key = uuid.NewString()
			}
			in := cloneTx(tmpl, strings.NewReplacer(tmplID, uuid.NewString(), tmplKey, uuid.NewString()))
			raw := func() {
				if _, err := f.db.Client.TransactWriteItems(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
			return calls{ours: ours, raw: raw}
		})
}

func BenchmarkSubmit(b *testing.B) {
	f := setup(b)
	ctx := context.Background()
	var tmplTx *dynamodb.TransactWriteItemsInput
	var tmplSend *sqs.SendMessageInput
	var tmplGet *dynamodb.GetItemInput
	var tmplID string
	submit := func(id string) {
		serve(b, f.submit, request(api.RouteSubmit, "/claims/"+id+"/submit", "", map[string]string{"id": id}, nil), 202)
	}
	// Every call submit makes is one the contract needs: the claim read
	// (its status, version and completeness), a HeadObject per file not yet
	// confirmed (`uploaded` turns true at submit at the latest), the
	// transaction (claim + `submitted` event) and the validation job. So the
	// raw side is all four, replayed for another draft, and the goal 1.05x.
	pair(b, apiSection, "submit (POST /claims/{id}/submit)", 1.05,
		"raw: every call it makes, each one the contract needs: GetItem (the claim), HeadObject (its one file), TransactWriteItems (claim + `submitted` event), SendMessage (the validation job)",
		"",
		func(i int) calls {
			if tmplTx == nil {
				tmplID = newDraft(b, f)
				submit(tmplID)
				tmplTx, tmplSend, tmplGet = f.db.tx.Load(), f.sqs.send.Load(), f.db.get.Load()
			}
			id, rawID := newDraft(b, f), newDraft(b, f)
			rep := strings.NewReplacer(tmplID, rawID)
			in := cloneTx(tmplTx, rep)
			send := *tmplSend
			send.MessageBody = aws.String(rep.Replace(aws.ToString(tmplSend.MessageBody)))
			get := *tmplGet
			get.Key = substMap(tmplGet.Key, rep)
			c, err := f.st.Get(ctx, rawID)
			if err != nil {
				b.Fatal(err)
			}
			head := &s3.HeadObjectInput{Bucket: aws.String(f.res.BucketName), Key: aws.String(evidence.Key(rawID, c.Evidence[0].ID))}
			raw := func() {
				if _, err := f.db.Client.GetItem(ctx, &get); err != nil {
					b.Fatal(err)
				}
				if _, err := f.s3.HeadObject(ctx, head); err != nil {
					b.Fatal(err)
				}
				if _, err := f.db.Client.TransactWriteItems(ctx, in); err != nil {
					b.Fatal(err)
				}
				if _, err := f.sqs.Client.SendMessage(ctx, &send); err != nil {
					b.Fatal(err)
				}
			}
			return calls{ours: func() { submit(id) }, raw: raw}
		})
}

func BenchmarkGetClaim(b *testing.B) {
	f := setup(b)
	ctx := context.Background()
	id := newDraft(b, f)
	req := request(api.RouteGetClaim, "/claims/"+id, "", map[string]string{"id": id}, nil)
	serve(b, f.history, req, 200)
	in := f.db.get.Load()
	pair(b, apiSection, "get claim (GET /claims/{id})", 1.2, "raw: one consistent GetItem", "",
		func(int) calls {
			return calls{ours: func() { serve(b, f.history, req, 200) }, raw: func() {
				if _, err := f.db.Client.GetItem(ctx, in); err != nil {
					b.Fatal(err)
				}
			}}
		})
}

func BenchmarkHistory(b *testing.B) {
	f := setup(b)
	ctx := context.Background()
	id := newDraft(b, f)
	req := request(api.RouteHistory, "/claims/"+id+"/history", "", map[string]string{"id": id}, nil)
	serve(b, f.history, req, 200)
	in := f.db.q.Load()
	pair(b, apiSection, "history (GET /claims/{id}/history)", 1.2, "raw: one consistent Query of the claim's partition", "",
		func(int) calls {
			return calls{ours: func() { serve(b, f.history, req, 200) }, raw: func() {
				if _, err := f.db.Client.Query(ctx, in); err != nil {
					b.Fatal(err)
				}
			}}
		})
}

// cloneTx copies a transaction with every string value (keys, items,
// condition values) passed through rep: the same items for another claim.
func cloneTx(in *dynamodb.TransactWriteItemsInput, rep *strings.Replacer) *dynamodb.TransactWriteItemsInput {
	out := &dynamodb.TransactWriteItemsInput{}
	for _, it := range in.TransactItems {
		var c types.TransactWriteItem
		switch {
		case it.Put != nil:
			p := *it.Put
			p.Item, p.ExpressionAttributeValues = substMap(p.Item, rep), substMap(p.ExpressionAttributeValues, rep)
			c.Put = &p
		case it.Update != nil:
			u := *it.Update
			u.Key, u.ExpressionAttributeValues = substMap(u.Key, rep), substMap(u.ExpressionAttributeValues, rep)
			c.Update = &u
		case it.Delete != nil:
			d := *it.Delete
			d.Key, d.ExpressionAttributeValues = substMap(d.Key, rep), substMap(d.ExpressionAttributeValues, rep)
			c.Delete = &d
		case it.ConditionCheck != nil:
			k := *it.ConditionCheck
			k.Key, k.ExpressionAttributeValues = substMap(k.Key, rep), substMap(k.ExpressionAttributeValues, rep)
			c.ConditionCheck = &k
		}
		out.TransactItems = append(out.TransactItems, c)
	}
	return out
}

func substMap(m map[string]types.AttributeValue, rep *strings.Replacer) map[string]types.AttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = subst(v, rep)
	}
	return out
}

func subst(v types.AttributeValue, rep *strings.Replacer) types.AttributeValue {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: rep.Replace(x.Value)}
	case *types.AttributeValueMemberM:
		return &types.AttributeValueMemberM{Value: substMap(x.Value, rep)}
	case *types.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(x.Value))
		for i, e := range x.Value {
			l[i] = subst(e, rep)
		}
		return &types.AttributeValueMemberL{Value: l}
	}
	return v
}

// --- finalize -------------------------------------------------------------

const finalizeSection = "Finalize (FinalizeFunction's handler, called directly)"

// seeded is one seeded claim: its id and tenant.
type seeded struct{ id, tenant string }

// seedDue writes n PendingCustomer claims past their opt-out deadline, each
// for its own tenant, as the store writes them: one claim is written
// through the store and read back raw, and its item is copied for the rest
// (BatchWriteItem), spread over the due index's shards.
func seedDue(b *testing.B, f *fixture, st *store.Store, n int) []seeded {
	b.Helper()
	ctx := context.Background()
	past := time.Now().Add(-time.Hour).UTC()
	c := claimtest.Complete(partner, fmt.Sprintf("9%07d-0000-4000-8000-000000000000", time.Now().UnixNano()%1e7), past.Add(-240*time.Hour))
	if err := st.Create(ctx, c, claim.Event{At: c.CreatedAt, Action: claim.ActionCreated}); err != nil {
		b.Fatal(err)
	}
	for _, a := range []claim.Action{claim.ActionSubmitted, claim.ActionCustomerNotified} {
		next := *c
		ev, err := claim.Apply(&next, a, claim.Actor{Type: claim.ActorSystem, ID: "bench"}, past.Add(-time.Minute), nil)
		if err != nil {
			b.Fatal(err)
		}
		if next.Status == claim.StatusPendingCustomer {
			next.OptOutDeadline, next.CustomerNotifiedAt = &past, &past
		}
		if err := st.Commit(ctx, store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev}); err != nil {
			b.Fatal(err)
		}
		c = &next
	}
	out, err := f.db.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.Table()),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "CLAIM#" + c.ID}, "sk": &types.AttributeValueMemberS{Value: "META"}}})
	if err != nil || out.Item == nil {
		b.Fatalf("read back the seed claim: %v", err)
	}
	all := []seeded{{c.ID, c.Customer.TenantID}}
	var items []map[string]types.AttributeValue
	for i := 1; i < n; i++ {
		s := seeded{uuid.Must(uuid.NewV7()).String(), uuid.NewString()}
		item := substMap(out.Item, strings.NewReplacer(c.ID, s.id, c.Customer.TenantID, s.tenant))
		item["duepk"] = &types.AttributeValueMemberS{Value: fmt.Sprintf("DUE#%d", i%st.Shards())}
		items = append(items, item)
		all = append(all, s)
	}
	parallel(b, 8, (len(items)+24)/25, func(i int) error {
		var reqs []types.WriteRequest
		for _, it := range items[i*25 : min(len(items), i*25+25)] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		pending := map[string][]types.WriteRequest{st.Table(): reqs}
		for len(pending[st.Table()]) > 0 {
			o, err := f.db.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return err
			}
			pending = o.UnprocessedItems
		}
		return nil
	})
	return all
}

// parallel runs fn(0..n-1) on workers goroutines; the first error fails b.
func parallel(b *testing.B, workers, n int, fn func(i int) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
}

type noJobs struct{}

func (noJobs) Send(context.Context, queue.Job) error { return nil }

type noMail struct{}

func (noMail) NotifyPartner(context.Context, *claim.Claim) error { return nil }

var perClaim sync.Map // due count -> time per claim

// replayFinalize is the raw floor of a finalize run over claims without
// group commit: the Queries of the due index (each shard, pages of 100), a
// BatchGetItem of the association units per 100 claims, and per claim one
// TransactWriteItems of one decision (claim, event and WORKLOAD unit) and
// the UpdateItem marking its partner notice sent, replayed from what our
// run sent, at the same concurrency.
func replayFinalize(b *testing.B, f *fixture, st *store.Store, rec *recDB, recorded, claims []seeded) time.Duration {
	b.Helper()
	ctx := context.Background()
	q, batch, group, marks := rec.q.Load(), rec.batch.Load(), rec.decision.Load(), rec.mark.Load()
	if group == nil || marks == nil || len(group.TransactItems) < 3 {
		b.Fatal("no group-committed decision or notice mark recorded")
	}
	// One decision: the claim, its event and its WORKLOAD unit.
	tx := &dynamodb.TransactWriteItemsInput{TransactItems: group.TransactItems[:3]}
	if pk := tx.TransactItems[2].Put.Item["pk"].(*types.AttributeValueMemberS).Value; !strings.HasPrefix(pk, "ASSOC#") {
		b.Fatalf("the recorded decision's third item is %s, not its unit", pk)
	}
	mk := marks.TransactItems[0].Update
	upd := &dynamodb.UpdateItemInput{Key: mk.Key, UpdateExpression: mk.UpdateExpression, ConditionExpression: mk.ConditionExpression,
		ExpressionAttributeNames: mk.ExpressionAttributeNames, ExpressionAttributeValues: mk.ExpressionAttributeValues}
	var batchTable string
	for t := range batch.RequestItems {
		batchTable = t
	}
	batchOf, txOf, updOf := whose(b, batch.RequestItems[batchTable].Keys[0], recorded), whose(b, tx.TransactItems[0].Put.Item, recorded), whose(b, upd.Key, recorded)
	start := time.Now()
	shardOf := q.ExpressionAttributeValues[":p"].(*types.AttributeValueMemberS).Value
	for shard := 0; shard < st.Shards(); shard++ {
		in := *q
		in.TableName, in.ExclusiveStartKey = aws.String(st.Table()), nil
		in.ExpressionAttributeValues = substMap(q.ExpressionAttributeValues, strings.NewReplacer(shardOf, fmt.Sprintf("DUE#%d", shard)))
		for {
			out, err := f.db.Client.Query(ctx, &in)
			if err != nil {
				b.Fatal(err)
			}
			if out.LastEvaluatedKey == nil {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	// One BatchGetItem of the association units per page of 100 claims.
	for i := 0; i < len(claims); i += 100 {
		var keys []map[string]types.AttributeValue
		for _, c := range claims[i:min(len(claims), i+100)] {
			keys = append(keys, substMap(batch.RequestItems[batchTable].Keys[0], strings.NewReplacer(batchOf.tenant, c.tenant)))
		}
		in := &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{st.Table(): {Keys: keys, ConsistentRead: aws.Bool(true)}}}
		for len(in.RequestItems) > 0 {
			out, err := f.db.Client.BatchGetItem(ctx, in)
			if err != nil {
				b.Fatal(err)
			}
			in.RequestItems = out.UnprocessedKeys
		}
	}
	parallel(b, finalize.DefaultConcurrency, len(claims), func(i int) error {
		c := claims[i]
		t := cloneTx(tx, strings.NewReplacer(txOf.id, c.id, txOf.tenant, c.tenant))
		for _, it := range t.TransactItems {
			if it.Put != nil {
				it.Put.TableName = aws.String(st.Table())
			}
		}
		if _, err := f.db.Client.TransactWriteItems(ctx, t); err != nil {
			return err
		}
		// The partner notice marked sent.
		u := *upd
		u.TableName, u.Key = aws.String(st.Table()), substMap(upd.Key, strings.NewReplacer(updOf.id, c.id))
		_, err := f.db.Client.UpdateItem(ctx, &u)
		return err
	})
	return time.Since(start)
}

// whose finds the seeded claim whose id or tenant an item's keys name.
func whose(b *testing.B, item map[string]types.AttributeValue, claims []seeded) seeded {
	b.Helper()
	pk, _ := item["pk"].(*types.AttributeValueMemberS)
	if pk == nil {
		b.Fatal("recorded item has no pk")
	}
	for _, c := range claims {
		if strings.Contains(pk.Value, c.id) || strings.Contains(pk.Value, strings.ToLower(c.tenant)) {
			return c
		}
	}
	b.Fatalf("recorded item %s is of no seeded claim", pk.Value)
	return seeded{}
}

func BenchmarkFinalize(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("due=%d", n), func(b *testing.B) {
			f := setup(b)
			var ours, raw, mailed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				// Three tables of their own, so only these claims are due:
				// decisions only, the raw replay, and decisions with the
				// partners' emails as the function sends them.
				resA, resB, resC := testenv.Provision(b), testenv.Provision(b), testenv.Provision(b)
				rec := &recDB{Client: f.db.Client}
				stA := store.New(rec, resA.TableName)
				stB, stC := store.New(f.db.Client, resB.TableName), store.New(f.db.Client, resC.TableName)
				seedA, seedB := seedDue(b, f, stA, n), seedDue(b, f, stB, n)
				seedDue(b, f, stC, n)
				run := func(st *store.Store, mail finalize.Partners) time.Duration {
					fin := &finalize.Finalizer{Store: st, Jobs: noJobs{}, Mail: mail, Clock: time.Now, Log: quiet}
					start := time.Now()
					r, err := fin.Run(context.Background(), time.Now())
					d := time.Since(start)
					if err != nil || r.Approved != n {
						b.Fatalf("finalize of %d due claims: %+v %v", n, r, err)
					}
					return d
				}
				b.StartTimer()
				ours += run(stA, noMail{})
				raw += replayFinalize(b, f, stB, rec, seedA, seedB)
				mailed += run(stC, f.mailer)
			}
			per := ours / time.Duration(b.N*n)
			perClaim.Store(n, per)
			rate := func(d time.Duration) float64 { return float64(n*b.N) / d.Seconds() }
			b.ReportMetric(rate(ours), "claims/s")
			b.ReportMetric(rate(raw), "raw-claims/s")
			b.ReportMetric(rate(mailed), "mailed-claims/s")
			bench.Record(bench.Figure{Section: finalizeSection, Name: fmt.Sprintf("%d due claims decided (Approved)", n),
				Value: fmt.Sprintf("%.0f claims/s", rate(ours)), Versus: fmt.Sprintf("%.0f claims/s", rate(raw)),
				Ratio: fmt.Sprintf("%.2fx", float64(ours)/float64(raw)), Goal: "≥ 1,000/s", Met: rate(ours) >= 1000,
				Note: fmt.Sprintf("%s per run, %s per claim, group commit (up to %d items a transaction, %d groups at once); partner emails not sent (a no-op sender), marked sent; raw: the same Queries and BatchGetItem, then one decision per TransactWriteItems and one UpdateItem per notice mark, replayed at the same concurrency; runs=%d",
					bench.Ms(ours/time.Duration(b.N)), bench.Ms(per), store.MaxGroupItems, finalize.DefaultConcurrency, b.N)})
			speedup := float64(raw) / float64(ours)
			bench.Record(bench.Figure{Section: finalizeSection, Name: fmt.Sprintf("%d due claims: group commit vs one decision per transaction", n),
				Value: fmt.Sprintf("%.2fx faster", speedup), Goal: "≥ 4x", Met: speedup >= 4,
				Note: "the raw replay above, measured in the same run at the same concurrency"})
			bench.Record(bench.Figure{Section: finalizeSection, Name: fmt.Sprintf("%d due claims decided, partners emailed (SES)", n),
				Value: fmt.Sprintf("%.0f claims/s", rate(mailed)), Note: "as FinalizeFunction runs: each decision's partner notice sent through LocalStack's SES"})
			if small, ok := perClaim.Load(1_000); ok && n == 10_000 {
				g := float64(per) / float64(small.(time.Duration))
				bench.Record(bench.Figure{Section: finalizeSection, Name: "growth 1,000 → 10,000 due claims (time per claim)",
					Value: fmt.Sprintf("%.2fx per claim", g), Goal: "linear (≤ 1.2x)", Met: g <= 1.2,
					Note: "the run's time grows with the claims decided: no Scan, no read per claim"})
			}
		})
	}
}

// --- the functions' binaries ----------------------------------------------

var (
	rtOnce sync.Once
	rt     *runner.Runner
	rtErr  error
)

// theRunner starts the local runner once (the real binaries under the
// Runtime Interface Emulator, behind the gateway).
func theRunner(b *testing.B) *runner.Runner {
	b.Helper()
	rtOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		rt, rtErr = runner.Start(ctx, runner.Config{Root: testenv.Root(), Addr: "127.0.0.1:0",
			Prefix: fmt.Sprintf("bench%d", os.Getpid()%100000), MaxInstances: 8, ScheduleEvery: -1, Log: io.Discard})
	})
	if rtErr != nil {
		b.Fatalf("runner: %v", rtErr)
	}
	return rt
}

const binSection = "Function binaries"

var functions = []string{"CreateFunction", "SubmitFunction", "HistoryFunction", "ValidateFunction", "OptOutFunction", "FinalizeFunction"}

// armSizes builds every function as SAM deploys it (arm64, static,
// stripped, lambda.norpc) and returns the sizes.
var armSizes = sync.OnceValues(func() (map[string]int64, error) {
	dir, err := os.MkdirTemp("", "claims-bench-arm64-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	sizes := map[string]int64{}
	for _, fn := range testenv.Template().Functions() {
		if err := runner.BuildFunction(context.Background(), testenv.Root(), fn.CodeURI, "arm64", filepath.Join(dir, fn.ID)); err != nil {
			return nil, err
		}
		st, err := os.Stat(filepath.Join(dir, fn.ID))
		if err != nil {
			return nil, err
		}
		sizes[fn.ID] = st.Size()
	}
	return sizes, nil
})

func BenchmarkColdStart(b *testing.B) {
	for _, id := range functions {
		b.Run(id, func(b *testing.B) {
			r := theRunner(b)
			sizes, err := armSizes()
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer() // the runner's start and the builds are not cold starts
			inits := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				d, err := r.ColdStart(context.Background(), id, []byte(`{}`))
				if err != nil {
					b.Fatal(err)
				}
				inits = append(inits, d)
			}
			med := bench.Median(inits)
			b.ReportMetric(float64(med)/1e6, "init-ms")
			b.ReportMetric(float64(sizes[id])/1e6, "arm64-MB")
			mb := float64(sizes[id]) / (1 << 20)
			bench.Record(bench.Figure{Section: binSection, Name: id + ": size (arm64, stripped)",
				Value: fmt.Sprintf("%.1f MiB", mb), Goal: "≤ 12 MiB", Met: mb <= 12})
			bench.Record(bench.Figure{Section: binSection, Name: id + ": init under the Runtime Interface Emulator",
				Value: bench.Ms(med), Goal: "≤ 20 ms", Met: med <= 20*time.Millisecond,
				Note: fmt.Sprintf("start to first poll of the runtime API (the emulator's INIT REPORT), host build, median of %d cold starts", b.N)})
		})
	}
}

// --- the runner under load --------------------------------------------------

const loadSection = "Local runner under load (HTTP on loopback, through the real binaries)"

func BenchmarkRunnerLoad(b *testing.B) {
	r := theRunner(b)
	claims := runner.SampleClaims(time.Now())
	tok, err := r.Authorizer().Token(claims)
	if err != nil {
		b.Fatal(err)
	}
	const workers = 8
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var mu sync.Mutex
	lat := map[string][]time.Duration{}
	var errCount atomic.Int64
	do := func(route, method, path, body string) map[string]any {
		req, _ := http.NewRequest(method, r.URL()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		start := time.Now()
		resp, err := client.Do(req)
		d := time.Since(start)
		if err != nil {
			errCount.Add(1)
			return nil
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			errCount.Add(1)
		}
		mu.Lock()
		lat[route] = append(lat[route], d)
		mu.Unlock()
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		return out
	}
	body := strings.Replace(createBody, `"mpnId":"1234567"`, `"mpnId":"1234567"`, 1)
	sequence := func() {
		c := do(api.RouteCreateClaim, "POST", "/claims", body)
		id, _ := c["id"].(string)
		if id == "" {
			return
		}
		do(api.RouteGetClaim, "GET", "/claims/"+id, "")
		do(api.RoutePatchClaim, "PATCH", "/claims/"+id, `{"comments":"Updated under load."}`)
		do(api.RouteHistory, "GET", "/claims/"+id+"/history", "")
		do(api.RouteListClaims, "GET", "/claims?limit=20", "")
		do(api.RouteProducts, "GET", "/products", "")
	}
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				sequence()
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	for _, route := range []string{api.RouteCreateClaim, api.RouteGetClaim, api.RoutePatchClaim, api.RouteHistory, api.RouteListClaims, api.RouteProducts} {
		ds := lat[route]
		p50, p99 := bench.Percentile(ds, 50), bench.Percentile(ds, 99)
		bench.Record(bench.Figure{Section: loadSection, Name: route, Value: "p50 " + bench.Ms(p50) + ", p99 " + bench.Ms(p99),
			Goal: "errors: none", Met: errCount.Load() == 0,
			Note: fmt.Sprintf("%d requests, %d concurrent clients, errors in the run: %d", len(ds), workers, errCount.Load())})
	}
	if n := errCount.Load(); n > 0 {
		b.Errorf("%d requests failed under load", n)
	}
}
