package validation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cpor-claims/claims/local/sesmail"
	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/claim/claimtest"
	"github.com/cpor-claims/claims/shared/evidence"
	"github.com/cpor-claims/claims/shared/mail"
	"github.com/cpor-claims/claims/shared/queue"
	"github.com/cpor-claims/claims/shared/store"
	"github.com/cpor-claims/claims/shared/tenant"
	"github.com/cpor-claims/claims/shared/validation"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// notified: Tuesday 24 November 2026 10:00 in Los Angeles.
var clock = time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)

type fixture struct {
	t       *testing.T
	store   *store.Store
	bucket  *evidence.Bucket
	s3      *s3.Client
	worker  *validation.Worker
	cal     *claim.Calendar
	tenants map[string]string // domain -> tenant id the lookup answers
	// bodyOf holds, by file name, the content submitted for a file other
	// than submitted's body (the version submit records is that one).
	bodyOf map[string][]byte
	sender string
	down   atomic.Bool
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	testenv.NeedsStack(t) // S3, SQS or SES: LocalStack
	res := testenv.Provision(t)
	cfg := testenv.AWSConfig(t)
	f := &fixture{t: t, tenants: map[string]string{}}
	f.store = store.New(awsclient.DynamoDB(cfg), res.TableName)
	f.s3 = awsclient.S3(cfg)
	f.bucket = evidence.New(f.s3, res.BucketName)
	cal, err := claim.NewCalendar("America/Los_Angeles", "US")
	if err != nil {
		t.Fatal(err)
	}
	f.cal = cal
	f.sender = res.Sender // the template's sender identity, verified by Provision
	mailer, err := mail.New(awsclient.SES(cfg), f.sender, cal.Location())
	if err != nil {
		t.Fatal(err)
	}
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		domain := strings.Split(strings.Trim(r.URL.Path, "/"), "/")[0]
		tid, ok := f.tenants[domain]
		if tid == lookupDown {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_tenant"}`)
			return
		}
		fmt.Fprintf(w, `{"issuer":"https://login.microsoftonline.com/%s/v2.0"}`, tid)
	}))
	t.Cleanup(idp.Close)
	f.worker = &validation.Worker{
		Store: f.store, Evidence: f.bucket, Tenants: tenant.New(idp.URL), Mail: mailer, Calendar: cal,
		Clock: func() time.Time { return clock }, PublicBaseURL: "http://claims.test", Log: slog.New(slog.NewTextHandler(testLog(), nil)),
	}
	return f
}

var tenantSeq atomic.Int64

// lookupDown as a domain's tenant makes the lookup answer 503 for it.
const lookupDown = "down"

// submitted stores a complete, submitted claim whose evidence holds body,
// and whose domain the lookup maps to its tenant.
func (f *fixture) submitted(partner string, body []byte, mutate ...func(*claim.Claim)) *claim.Claim {
	f.t.Helper()
	ctx := context.Background()
	tid := fmt.Sprintf("00000000-0000-4000-8000-%012d", tenantSeq.Add(1)+time.Now().UnixNano()%1e9)
	c := claimtest.Complete(partner, tid, clock.Add(-48*time.Hour))
	c.Customer.Domain = fmt.Sprintf("t%s.onmicrosoft.com", tid[len(tid)-12:])
	// The contact's address is at another domain of the same tenant.
	c.CustomerContact.Email = "it-" + tid[len(tid)-12:] + "@mail." + c.Customer.Domain
	f.tenants[c.Customer.Domain] = tid
	f.tenants["mail."+c.Customer.Domain] = tid
	for _, m := range mutate {
		m(c)
	}
	if err := f.store.Create(ctx, c, claim.Event{At: c.CreatedAt, Action: claim.ActionCreated, ToStatus: claim.StatusDraft}); err != nil {
		f.t.Fatal(err)
	}
	for i, e := range c.Evidence {
		content := body
		if b, ok := f.bodyOf[e.FileName]; ok {
			content = b
		}
		out, err := f.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(f.bucket.Name()), Key: aws.String(evidence.Key(c.ID, e.ID)),
			Body: bytes.NewReader(content), ContentType: aws.String(e.ContentType),
		})
		if err != nil {
			f.t.Fatal(err)
		}
		// As submit records it (the bucket is versioned, as in template.yaml).
		c.Evidence[i].Uploaded, c.Evidence[i].VersionID = true, aws.ToString(out.VersionId)
	}
	next := *c
	ev, err := claim.Apply(&next, claim.ActionSubmitted, claim.Actor{Type: claim.ActorPartner, ID: "user-1"}, clock.Add(-time.Hour), nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.store.Commit(ctx, store.Change{Claim: &next, ExpectStatus: claim.StatusDraft, ExpectVersion: 1, Event: ev}); err != nil {
		f.t.Fatal(err)
	}
	return &next
}

// notified commits c's notification at at, as a worker that then died
// before sending the email leaves it (with the token of hash, if given).
func (f *fixture) notified(c *claim.Claim, at time.Time, hash string) *claim.Claim {
	f.t.Helper()
	next := *c
	ev, err := claim.Apply(&next, claim.ActionCustomerNotified, claim.Actor{Type: claim.ActorSystem, ID: "validation"}, at, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	dl := clock.Add(100 * time.Hour)
	next.OptOutDeadline = &dl
	var ops []store.Op
	if hash != "" {
		op, err := f.store.TokenOp(store.Token{Hash: hash, ClaimID: c.ID, Version: next.Version, Deadline: dl})
		if err != nil {
			f.t.Fatal(err)
		}
		ops = append(ops, op)
	}
	if err := f.store.Commit(context.Background(), store.Change{Claim: &next, ExpectStatus: c.Status, ExpectVersion: c.Version, Event: ev, Ops: ops}); err != nil {
		f.t.Fatal(err)
	}
	return &next
}

func message(id string, c *claim.Claim) events.SQSMessage {
	b, _ := json.Marshal(queue.Job{ClaimID: c.ID, Version: c.Version})
	return events.SQSMessage{MessageId: id, Body: string(b)}
}

func (f *fixture) handle(msgs ...events.SQSMessage) []string {
	f.t.Helper()
	resp, err := f.worker.Handle(context.Background(), events.SQSEvent{Records: msgs})
	if err != nil {
		f.t.Fatalf("Handle returned an error (it must report failures per message): %v", err)
	}
	var failed []string
	for _, x := range resp.BatchItemFailures {
		failed = append(failed, x.ItemIdentifier)
	}
	return failed
}

func (f *fixture) get(id string) *claim.Claim {
	f.t.Helper()
	c, err := f.store.Get(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) actions(id string) []claim.Action {
	f.t.Helper()
	evs, err := f.store.History(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []claim.Action
	for _, e := range evs {
		out = append(out, e.Action)
	}
	return out
}

func emailsTo(t *testing.T, addr string) []sesmail.Email {
	t.Helper()
	all, err := sesmail.Fetch(context.Background(), os.Getenv("AWS_ENDPOINT_URL"))
	if err != nil {
		t.Fatal(err)
	}
	return sesmail.To(all, addr)
}

func TestAllGoodNotifiesTheCustomerOnce(t *testing.T) {
	f := newFixture(t)
	c := f.submitted("partner-a", claimtest.PDF)
	if failed := f.handle(message("m1", c)); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	got := f.get(c.ID)
	if got.Status != claim.StatusPendingCustomer || got.CustomerNotifiedAt == nil {
		t.Fatalf("status %s notified %v", got.Status, got.CustomerNotifiedAt)
	}
	// Five business days after Tuesday 24 Nov 2026 (LA), Thanksgiving (26th)
	// excluded: Wed 25, Fri 27, Mon 30, Tue 1, Wed 2 -> ends Thu 3 Dec 00:00 PST.
	want := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	if !got.OptOutDeadline.Equal(want) {
		t.Fatalf("deadline %v, want %v", got.OptOutDeadline, want)
	}
	mails := emailsTo(t, c.CustomerContact.Email)
	if len(mails) != 1 {
		t.Fatalf("%d emails to the customer, want 1", len(mails))
	}
	m := mails[0]
	if m.From != f.sender || !strings.Contains(m.Text, "http://claims.test/opt-out/") || !strings.Contains(m.HTML, `href="http://claims.test/opt-out/`) {
		t.Fatalf("email lacks the link or sender: %+v", m)
	}
	for _, want := range []string{"Fabrikam Partners &lt;Ltd&gt;", "Microsoft Teams", c.Customer.TenantID, c.Customer.Domain, "Contoso &lt;script&gt;"} {
		if !strings.Contains(m.HTML, want) {
			t.Fatalf("HTML part lacks %q:\n%s", want, m.HTML)
		}
	}
	if strings.Contains(m.HTML, "<script>") {
		t.Fatal("partner-typed markup reached the HTML unescaped")
	}
	if !strings.Contains(m.Text, "until the end of Wednesday 2 December 2026, Pacific time (Thursday 3 December 2026 08:00 UTC)") {
		t.Fatalf("text part lacks the deadline:\n%s", m.Text)
	}
	// The link's token is stored only as its hash, and it leads to the claim.
	link := m.Text[strings.Index(m.Text, "http://claims.test/opt-out/"):]
	token := strings.Fields(link)[0][len("http://claims.test/opt-out/"):]
	if !claim.WellFormedToken(token) {
		t.Fatalf("token %q", token)
	}
	tok, err := f.store.GetToken(context.Background(), claim.HashToken(token))
	if err != nil || tok.ClaimID != c.ID || !tok.Valid(got.Version) {
		t.Fatalf("token item: %+v %v", tok, err)
	}

	// Redelivery (twice): nothing changes, no second email.
	if failed := f.handle(message("m1", c), message("m1-again", c)); len(failed) != 0 {
		t.Fatalf("redelivery failed: %v", failed)
	}
	if n := len(emailsTo(t, c.CustomerContact.Email)); n != 1 {
		t.Fatalf("%d emails after redelivery, want 1", n)
	}
	if got := f.actions(c.ID); fmt.Sprint(got) != "[created submitted customer_notified]" {
		t.Fatalf("history %v", got)
	}
}

func TestMismatchedEvidenceNeedsInfo(t *testing.T) {
	f := newFixture(t)
	c := f.submitted("partner-a", []byte("\x89PNG\r\n\x1a\nnot a pdf"))
	if failed := f.handle(message("m1", c)); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	got := f.get(c.ID)
	if got.Status != claim.StatusNeedsInfo || got.StatusReason == nil || got.StatusReason.Code != claim.ReasonEvidenceInvalid {
		t.Fatalf("got %s %+v", got.Status, got.StatusReason)
	}
	if want := f.cal.EndOfBusinessDaysAfter(clock, 5); got.RespondBy == nil || !got.RespondBy.Equal(want) {
		t.Fatalf("respondBy %v, want %v", got.RespondBy, want)
	}
	mails := emailsTo(t, c.PartnerContact.Email)
	if len(mails) == 0 || !strings.Contains(mails[len(mails)-1].Text, "sow.pdf") {
		t.Fatalf("partner not told what is missing: %+v", mails)
	}
	if n := len(emailsTo(t, c.CustomerContact.Email)); n != 0 {
		t.Fatalf("customer emailed for a claim needing info")
	}
}

// What was submitted is what is validated: each evidence file is read at
// the version submit recorded, so an upload to its key afterwards (a
// presigned POST still valid) changes nothing that is checked, either way.
func TestValidationReadsTheSubmittedVersion(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	overwrite := func(c *claim.Claim, body []byte) {
		t.Helper()
		out, err := f.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(f.bucket.Name()), Key: aws.String(evidence.Key(c.ID, c.Evidence[0].ID)),
			Body: bytes.NewReader(body), ContentType: aws.String(c.Evidence[0].ContentType),
		})
		if err != nil {
			t.Fatal(err)
		}
		if v := aws.ToString(out.VersionId); v == "" || v == c.Evidence[0].VersionID {
			t.Fatalf("the evidence bucket is not versioned (version %q after %q)", v, c.Evidence[0].VersionID)
		}
	}
	png := []byte("\x89PNG\r\n\x1a\nnot a pdf")
	good := f.submitted("partner-a", claimtest.PDF)
	overwrite(good, png) // a PDF was submitted; junk uploaded after submit
	bad := f.submitted("partner-a", png)
	overwrite(bad, claimtest.PDF) // junk was submitted; a PDF slipped in after
	if failed := f.handle(message("m1", good), message("m2", bad)); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	if got := f.get(good.ID); got.Status != claim.StatusPendingCustomer {
		t.Fatalf("submitted PDF overwritten after submit: %s %+v, want PendingCustomer", got.Status, got.StatusReason)
	}
	if got := f.get(bad.ID); got.Status != claim.StatusNeedsInfo || got.StatusReason.Code != claim.ReasonEvidenceInvalid {
		t.Fatalf("submitted junk replaced by a PDF after submit: %s %+v, want NeedsInfo evidence_invalid", got.Status, got.StatusReason)
	}
	// A recorded version that storage no longer has is missing, not another
	// version's content.
	gone := f.submitted("partner-a", claimtest.PDF)
	overwrite(gone, claimtest.PDF)
	if _, err := f.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(f.bucket.Name()),
		Key: aws.String(evidence.Key(gone.ID, gone.Evidence[0].ID)), VersionId: aws.String(gone.Evidence[0].VersionID)}); err != nil {
		t.Fatal(err)
	}
	f.handle(message("m3", gone))
	if got := f.get(gone.ID); got.Status != claim.StatusNeedsInfo || got.Evidence[0].Invalid != "not found in storage" {
		t.Fatalf("deleted submitted version: %s %+v", got.Status, got.Evidence)
	}
}

// After a customer opts out of a partner's claim (the opt-out's
// transaction records what it declined), that partner's new claims on the
// same tenant and any of the same products are Rejected
// (customer_declined_recently, naming the date the cool-down ends) until
// it ends; another partner, or other products, are not.
func TestDeclinedRecentlyIsRejectedUntilTheCoolDownEnds(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first := f.submitted("partner-a", claimtest.PDF)
	until := clock.Add(90 * 24 * time.Hour).Truncate(time.Second)
	ops, err := f.store.DeclinedOps(store.Declined{TenantID: first.Customer.TenantID, PartnerID: "partner-a", ClaimID: first.ID,
		Products: []string{"teams", "exchange-online"}, Until: until})
	if err != nil {
		t.Fatal(err)
	}
	optedOut := *first
	ev, err := claim.Apply(&optedOut, claim.ActionCustomerNotified, claim.Actor{Type: claim.ActorSystem, ID: "validation"}, clock.Add(-time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Commit(ctx, store.Change{Claim: &optedOut, ExpectStatus: first.Status, ExpectVersion: first.Version, Event: ev, Ops: ops}); err != nil {
		t.Fatal(err)
	}
	again := func(partner string, mutate ...func(*claim.Claim)) *claim.Claim {
		return f.submitted(partner, claimtest.PDF, append([]func(*claim.Claim){func(c *claim.Claim) {
			c.Customer, c.CustomerContact.Email = first.Customer, "x-"+c.ID+"@mail."+first.Customer.Domain
		}}, mutate...)...)
	}
	same := again("partner-a")
	overlap := again("partner-a", func(c *claim.Claim) {
		c.Products = []claim.ProductRef{{ID: "exchange-online"}, {ID: "sharepoint-online"}}
	})
	otherPartner := again("partner-b")
	otherProduct := again("partner-a", func(c *claim.Claim) { c.Products = []claim.ProductRef{{ID: "sharepoint-online"}} })
	if failed := f.handle(message("m1", same), message("m2", overlap), message("m3", otherPartner), message("m4", otherProduct)); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	for _, c := range []*claim.Claim{same, overlap} {
		got := f.get(c.ID)
		if got.Status != claim.StatusRejected || got.StatusReason.Code != claim.ReasonDeclinedRecently ||
			!strings.Contains(got.StatusReason.Message, until.UTC().Format("2 January 2006")) {
			t.Fatalf("claim %v: %s %+v, want Rejected customer_declined_recently until %s", c.Products, got.Status, got.StatusReason, until)
		}
	}
	for _, c := range []*claim.Claim{otherPartner, otherProduct} {
		if got := f.get(c.ID); got.Status != claim.StatusPendingCustomer {
			t.Fatalf("%s %v: %s %+v, want PendingCustomer", c.PartnerID, c.Products, got.Status, got.StatusReason)
		}
	}
	// Once the cool-down has ended the same claim proceeds.
	later := again("partner-a")
	f.worker.Clock = func() time.Time { return until.Add(time.Second) }
	defer func() { f.worker.Clock = func() time.Time { return clock } }()
	f.handle(message("m5", later))
	if got := f.get(later.ID); got.Status != claim.StatusPendingCustomer {
		t.Fatalf("after the cool-down: %s %+v", got.Status, got.StatusReason)
	}
}

func TestTenantDomainMismatchIsRejected(t *testing.T) {
	f := newFixture(t)
	c := f.submitted("partner-a", claimtest.PDF, func(c *claim.Claim) {
		f.tenants[c.Customer.Domain] = "99999999-9999-4999-8999-999999999999"
	})
	f.handle(message("m1", c))
	got := f.get(c.ID)
	if got.Status != claim.StatusRejected || got.StatusReason.Code != claim.ReasonTenantDomainMismatch || got.DecidedAt == nil {
		t.Fatalf("got %s %+v", got.Status, got.StatusReason)
	}
}

// The customer contact's email must be at a domain of the claimed tenant:
// at the partner's own domain (another tenant) or at a domain of no tenant
// the claim is Rejected (contact_not_in_tenant) and the contact gets no
// email; a lookup of the contact's domain that is unavailable is retried.
func TestContactOutsideTheTenantIsRejected(t *testing.T) {
	f := newFixture(t)
	f.tenants["fabrikam-own.example"] = "88888888-8888-4888-8888-888888888888"
	redirected := f.submitted("partner-a", claimtest.PDF, func(c *claim.Claim) {
		c.CustomerContact.Email = "inbox@fabrikam-own.example"
	})
	nowhere := f.submitted("partner-a", claimtest.PDF, func(c *claim.Claim) {
		c.CustomerContact.Email = "ana@no-tenant.example"
	})
	if failed := f.handle(message("m1", redirected), message("m2", nowhere)); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	for _, c := range []*claim.Claim{redirected, nowhere} {
		got := f.get(c.ID)
		domain := c.CustomerContact.Email[strings.Index(c.CustomerContact.Email, "@")+1:]
		if got.Status != claim.StatusRejected || got.StatusReason.Code != claim.ReasonContactNotInTenant ||
			!strings.Contains(got.StatusReason.Message, domain) || !strings.Contains(got.StatusReason.Message, c.Customer.TenantID) {
			t.Fatalf("contact at %s: %s %+v", domain, got.Status, got.StatusReason)
		}
		if fmt.Sprint(f.actions(c.ID)) != "[created submitted rejected]" {
			t.Fatalf("history %v", f.actions(c.ID))
		}
		if n := len(emailsTo(t, c.CustomerContact.Email)); n != 0 {
			t.Fatalf("the contact outside the tenant got %d emails", n)
		}
		told := false
		for _, m := range emailsTo(t, c.PartnerContact.Email) {
			told = told || strings.Contains(m.Text, "Reason: "+got.StatusReason.Message)
		}
		if !told {
			t.Fatalf("partner not told why claim %s was rejected", c.ID)
		}
	}

	// The contact's domain cannot be looked up now: retried, not rejected.
	down := f.submitted("partner-a", claimtest.PDF, func(c *claim.Claim) {
		c.CustomerContact.Email = "ana@flaky.example"
	})
	f.tenants["flaky.example"] = lookupDown
	if failed := f.handle(message("m3", down)); fmt.Sprint(failed) != "[m3]" {
		t.Fatalf("failures %v, want the job retried", failed)
	}
	if got := f.get(down.ID); got.Status != claim.StatusSubmitted {
		t.Fatalf("an unavailable contact lookup changed the claim: %s", got.Status)
	}
	f.tenants["flaky.example"] = down.Customer.TenantID
	if failed := f.handle(message("m3", down)); len(failed) != 0 {
		t.Fatalf("retry failed: %v", failed)
	}
	if got := f.get(down.ID); got.Status != claim.StatusPendingCustomer {
		t.Fatalf("after retry: %s", got.Status)
	}
}

func TestUnavailableLookupIsRetriedNotRejected(t *testing.T) {
	f := newFixture(t)
	c := f.submitted("partner-a", claimtest.PDF)
	good := f.submitted("partner-a", claimtest.PDF)
	f.down.Store(true)
	failed := f.handle(message("m-down", c), events.SQSMessage{MessageId: "m-poison", Body: "{not json"})
	if fmt.Sprint(failed) != "[m-down m-poison]" {
		t.Fatalf("failures %v, want the unavailable lookup and the poison message", failed)
	}
	if got := f.get(c.ID); got.Status != claim.StatusSubmitted {
		t.Fatalf("an unavailable lookup changed the claim: %s", got.Status)
	}
	f.down.Store(false)
	if failed := f.handle(message("m-down", c), message("m-good", good)); len(failed) != 0 {
		t.Fatalf("retry failed: %v", failed)
	}
	if got := f.get(c.ID); got.Status != claim.StatusPendingCustomer {
		t.Fatalf("after retry: %s", got.Status)
	}
}

func TestHeldByAnotherPartnerIsRejectedButPendingIsNot(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.submitted("partner-a", claimtest.PDF)
	b := f.submitted("partner-b", claimtest.PDF, func(c *claim.Claim) {
		c.Customer, c.CustomerContact.Email = a.Customer, "b-"+a.CustomerContact.Email
	})
	f.handle(message("ma", a), message("mb", b))
	if ga, gb := f.get(a.ID), f.get(b.ID); ga.Status != claim.StatusPendingCustomer || gb.Status != claim.StatusPendingCustomer {
		t.Fatalf("competing pending claims must both be pending: %s %s", ga.Status, gb.Status)
	}
	// a is approved; a third claim for the same workload is now a conflict.
	ga := f.get(a.ID)
	next := *ga
	ev, _ := claim.Apply(&next, claim.ActionApproved, claim.Actor{Type: claim.ActorSystem, ID: "t"}, clock.Add(240*time.Hour), nil)
	if err := testenv.Approve(ctx, f.store, store.Change{Claim: &next, ExpectStatus: ga.Status, ExpectVersion: ga.Version, Event: ev}, nil); err != nil {
		t.Fatal(err)
	}
	c := f.submitted("partner-c", claimtest.PDF, func(c *claim.Claim) {
		c.Customer, c.CustomerContact.Email = a.Customer, "c-"+a.CustomerContact.Email
	})
	f.handle(message("mc", c))
	got := f.get(c.ID)
	if got.Status != claim.StatusRejected || got.StatusReason.Code != claim.ReasonConflict {
		t.Fatalf("got %s %+v", got.Status, got.StatusReason)
	}
	if strings.Contains(got.StatusReason.Message, "partner-a") {
		t.Fatal("the reason names the other partner")
	}
}

func TestCrashBeforeTheEmailNotifiesAgainWithANewLink(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.submitted("partner-a", claimtest.PDF)
	// The worker committed the notification, then died before sending.
	_, oldHash := claim.NewOptOutToken()
	f.notified(c, clock.Add(-30*time.Minute), oldHash)
	// The redelivered job sends the email once, with a new link.
	f.handle(message("m1", c))
	f.handle(message("m1", c))
	mails := emailsTo(t, c.CustomerContact.Email)
	if len(mails) != 1 {
		t.Fatalf("%d emails, want 1", len(mails))
	}
	got := f.get(c.ID)
	if got.CustomerNotifiedAt == nil || got.Status != claim.StatusPendingCustomer {
		t.Fatalf("not marked notified: %+v", got)
	}
	old, err := f.store.GetToken(ctx, oldHash)
	if err != nil || old.Valid(got.Version) {
		t.Fatalf("the unsent link still works: %+v %v", old, err)
	}
	if want := f.cal.EndOfBusinessDaysAfter(clock, 5); !got.OptOutDeadline.Equal(want) {
		t.Fatalf("deadline %v counts from the first attempt, want %v from the email", got.OptOutDeadline, want)
	}
	if got := f.actions(c.ID); fmt.Sprint(got) != "[created submitted customer_notified customer_notified]" {
		t.Fatalf("history %v", got)
	}
}

// One bad file among good ones still needs information: the bad file is
// marked invalid (and not read again), the partner uploads another and
// responds, and the claim proceeds on the files that are readable.
func TestOneBadFileNeedsInfoAndIsNotCheckedAgain(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// The second file's submitted version is a PNG declared as a PDF.
	f.bodyOf = map[string][]byte{"scan.pdf": []byte("\x89PNG\r\n\x1a\nnot a pdf")}
	c := f.submitted("partner-a", claimtest.PDF, func(c *claim.Claim) {
		bad := c.Evidence[0]
		bad.ID, bad.FileName = bad.ID[:len(bad.ID)-4]+"beef", "scan.pdf"
		c.Evidence = append(c.Evidence, bad)
	})
	f.handle(message("m1", c))
	got := f.get(c.ID)
	if got.Status != claim.StatusNeedsInfo || got.StatusReason.Code != claim.ReasonEvidenceInvalid || !strings.Contains(got.StatusReason.Message, "scan.pdf") {
		t.Fatalf("got %s %+v, want NeedsInfo naming scan.pdf", got.Status, got.StatusReason)
	}
	if got.Evidence[0].Invalid != "" || got.Evidence[1].Invalid != "content is not application/pdf" {
		t.Fatalf("evidence marks %q %q", got.Evidence[0].Invalid, got.Evidence[1].Invalid)
	}
	// The partner responds (no new file needed: a readable one remains).
	next := *got
	ev, err := claim.Apply(&next, claim.ActionResponded, claim.Actor{Type: claim.ActorPartner, ID: "user-1"}, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Commit(ctx, store.Change{Claim: &next, ExpectStatus: got.Status, ExpectVersion: got.Version, Event: ev}); err != nil {
		t.Fatal(err)
	}
	f.handle(message("m2", &next))
	if got := f.get(c.ID); got.Status != claim.StatusPendingCustomer {
		t.Fatalf("after responding: %s %+v (the refused file must not be checked again)", got.Status, got.StatusReason)
	}
}

// A duplicate delivery that finds the notification committed a moment ago
// (another worker may be sending its email right now) is retried later,
// not notified twice; once the email can no longer be on its way, the job
// notifies again.
func TestAFreshNotificationIsNotSentTwice(t *testing.T) {
	f := newFixture(t)
	c := f.submitted("partner-a", claimtest.PDF)
	f.notified(c, clock.Add(-10*time.Second), "")
	if failed := f.handle(message("m1", c)); len(failed) != 1 {
		t.Fatalf("failed %v: the job must come back later", failed)
	}
	if n := len(emailsTo(t, c.CustomerContact.Email)); n != 0 {
		t.Fatalf("%d emails sent while the first may be on its way", n)
	}
	f.worker.Clock = func() time.Time { return clock.Add(validation.DefaultResendAfter) }
	if failed := f.handle(message("m1", c)); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	if n := len(emailsTo(t, c.CustomerContact.Email)); n != 1 {
		t.Fatalf("%d emails, want 1", n)
	}
}

// A customer whose email never goes out is not notified forever: after
// MaxNotifications attempts the claim is rejected (customer_unreachable)
// and the partner is told.
func TestAnUnreachableCustomerEndsTheNotifications(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.submitted("partner-a", claimtest.PDF)
	cur := c
	for i := range validation.MaxNotifications {
		next := *cur
		var ev claim.Event
		at := clock.Add(time.Duration(i-10) * time.Hour)
		if i == 0 {
			ev, _ = claim.Apply(&next, claim.ActionCustomerNotified, claim.Actor{Type: claim.ActorSystem, ID: "validation"}, at, nil)
		} else {
			ev = claim.Touch(&next, claim.ActionCustomerNotified, claim.Actor{Type: claim.ActorSystem, ID: "validation"}, at, map[string]string{"resent": "true"})
		}
		dl := at.Add(100 * time.Hour)
		next.OptOutDeadline = &dl
		if err := f.store.Commit(ctx, store.Change{Claim: &next, ExpectStatus: cur.Status, ExpectVersion: cur.Version, Event: ev}); err != nil {
			t.Fatal(err)
		}
		cur = &next
	}
	if failed := f.handle(message("m1", c)); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	got := f.get(c.ID)
	if got.Status != claim.StatusRejected || got.StatusReason.Code != claim.ReasonCustomerUnreachable {
		t.Fatalf("got %s %+v", got.Status, got.StatusReason)
	}
	if n := len(emailsTo(t, c.CustomerContact.Email)); n != 0 {
		t.Fatalf("%d emails to the unreachable customer", n)
	}
	mails := emailsTo(t, c.PartnerContact.Email)
	if len(mails) == 0 || !strings.Contains(mails[len(mails)-1].Text, "could not be emailed") {
		t.Fatalf("partner not told: %+v", mails)
	}
	if err := claim.CheckDispute(got, clock.Add(time.Hour)); err != nil {
		t.Fatalf("the partner cannot dispute: %v", err)
	}
}

// A batch started too close to the function's deadline hands the records it
// cannot start back to the queue, untouched.
func TestABatchNearTheDeadlineReturnsWhatItCannotStart(t *testing.T) {
	f := newFixture(t)
	a, b := f.submitted("partner-a", claimtest.PDF), f.submitted("partner-b", claimtest.PDF)
	ctx, cancel := context.WithTimeout(context.Background(), validation.DefaultGuard/2)
	defer cancel()
	resp, err := f.worker.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{message("ma", a), message("mb", b)}})
	if err != nil || len(resp.BatchItemFailures) != 2 {
		t.Fatalf("%+v %v, want both records returned", resp, err)
	}
	if f.get(a.ID).Status != claim.StatusSubmitted || f.get(b.ID).Status != claim.StatusSubmitted {
		t.Fatal("a record was processed past the guard")
	}
}

// testLog is where the worker logs: nowhere, or stderr with WORKER_LOG set.
func testLog() io.Writer {
	if os.Getenv("WORKER_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}
