package main

// The checks of `samlocal invoke`: every sample event of events/ that names
// something (a claim, a token) finds it in the table, so each function
// answers from its real path, and each answer is checked, along with what
// the function left in the table, the queue and SES.
//
// The story, in order: a Draft is created, edited, given an evidence
// upload, refused a withdrawal and listed; the sample claim (seeded as a
// complete Draft under the samples' id, version 1) is read, submitted (its
// job reaches the queue), validated by the sample batch (version 2; the
// batch's poison message alone fails; the customer is emailed); the
// samples' opt-out token (seeded for that notification) shows the page and
// records the opt-out; the history tells it all; a second claim, notified
// on 24 November 2026 in process, is approved by the sample schedule at its
// opt-out deadline. Then a bulk import: the template, an import started,
// its file put, the sample notification processed, the import, its errors
// and the list read.
//
// The samples these steps invoke are theirs to check: events/events_test.go
// drives the other samples through their handlers in process (its own
// claims set up by requests it builds), only decodes these, and reads this file's step
// literals ({function: "...", event: "..."}) to fail when a step stops
// invoking a sample it leaves to samlocal.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cpor-claims/claims/local/sesmail"
	"github.com/cpor-claims/claims/local/stack"
	"github.com/cpor-claims/claims/shared/api"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/evidence"
	"github.com/cpor-claims/claims/shared/imports"
	"github.com/cpor-claims/claims/shared/mail"
	"github.com/cpor-claims/claims/shared/queue"
	"github.com/cpor-claims/claims/shared/service"
	"github.com/cpor-claims/claims/shared/store"
	"github.com/cpor-claims/claims/shared/tenant"
	"github.com/cpor-claims/claims/shared/validation"
)

// The ids the samples name.
const (
	sampleClaim    = "01a20d0c-0000-7000-8000-000000000001"
	sampleToken    = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	poisonMessage  = "2e1424d4-f796-459a-8184-9c92662be6da"
	sampleCustomer = "ana.silva@contoso.example"
	// The second claim, approved by the sample schedule.
	dueClaim = "01a20d0c-0000-7000-8000-0000000000d1"
)

// step is one `sam local invoke` of a sample event and what must follow.
type step struct {
	function, event string
	replace         func() []string // pairs replaced in the event's text
	before          func(ctx context.Context) error
	ok              func(ctx context.Context, out map[string]any) error
}

type suite struct {
	root   string
	cfg    aws.Config
	st     *store.Store
	ddb    *dynamodb.Client
	s3c    *s3.Client
	sqsc   *sqs.Client
	res    *stack.Resources
	awsURL string
	// lookupURL is the identity platform's stand-in (tenant lookups).
	lookupURL string
	draft     string // the Draft create-claim.json made
	mails     int    // emails to the sample customer before validation
	// The import the samples start, its file and the file's ETag.
	importID, importCSV, importETag string
}

func newSuite(root string, cfg aws.Config, res *stack.Resources, awsURL string) *suite {
	ddb := awsclient.DynamoDB(cfg)
	return &suite{root: root, cfg: cfg, st: store.New(ddb, res.TableName), ddb: ddb, s3c: awsclient.S3(cfg), sqsc: awsclient.SQS(cfg), res: res, awsURL: awsURL}
}

func (s *suite) steps() []step {
	draft := func() []string { return []string{sampleClaim, s.draft} }
	return append([]step{
		{function: "CreateFunction", event: "create-claim.json", ok: func(ctx context.Context, out map[string]any) error {
			body, err := answer(out, 201)
			if err != nil {
				return err
			}
			s.draft, _ = body["id"].(string)
			c, err := s.st.Get(ctx, s.draft)
			if err != nil || c.Status != claim.StatusDraft || c.PartnerID != "fabrikam" {
				return fmt.Errorf("the created claim in the table: %+v %v", c, err)
			}
			return nil
		}},
		{function: "CreateFunction", event: "patch-claim.json", replace: draft, ok: func(ctx context.Context, out map[string]any) error {
			body, err := answer(out, 200)
			if err != nil {
				return err
			}
			if body["comments"] != "Adoption workshops done." || body["version"] != 2.0 {
				return fmt.Errorf("patched claim %v", body)
			}
			return nil
		}},
		{function: "CreateFunction", event: "add-evidence.json", replace: draft, ok: func(ctx context.Context, out map[string]any) error {
			body, err := answer(out, 201)
			if err != nil {
				return err
			}
			up, _ := body["upload"].(map[string]any)
			fields, _ := up["fields"].(map[string]any)
			ev, _ := body["evidence"].(map[string]any)
			id, _ := ev["id"].(string)
			if up["method"] != "POST" || fields["key"] != evidence.Key(s.draft, id) || fields["policy"] == nil {
				return fmt.Errorf("presigned upload %v", body)
			}
			return nil
		}},
		{function: "SubmitFunction", event: "withdraw-claim.json", replace: draft, ok: func(_ context.Context, out map[string]any) error {
			body, err := answer(out, 409)
			if err == nil && body["code"] != "invalid_transition" {
				err = fmt.Errorf("withdrawing a Draft: %v", body)
			}
			return err
		}},
		{function: "HistoryFunction", event: "list-claims.json", ok: func(_ context.Context, out map[string]any) error {
			body, err := answer(out, 200)
			if err != nil {
				return err
			}
			items, _ := body["items"].([]any)
			if len(items) != 1 || items[0].(map[string]any)["id"] != s.draft {
				return fmt.Errorf("the partner's Drafts: %v, want only %s", body, s.draft)
			}
			return nil
		}},
		{function: "HistoryFunction", event: "get-claim.json", before: s.seedSampleClaim, ok: func(_ context.Context, out map[string]any) error {
			body, err := answer(out, 200)
			if err == nil && (body["id"] != sampleClaim || body["status"] != "Draft") {
				err = fmt.Errorf("the sample claim: %v", body)
			}
			return err
		}},
		{function: "SubmitFunction", event: "submit-claim.json", ok: func(ctx context.Context, out map[string]any) error {
			body, err := answer(out, 202)
			if err != nil {
				return err
			}
			if body["status"] != "Submitted" || body["version"] != 2.0 {
				return fmt.Errorf("submitted claim %v", body)
			}
			return s.expectJob(ctx, sampleClaim, 2)
		}},
		{function: "ValidateFunction", event: "validation-batch.json", before: s.countMails, ok: func(ctx context.Context, out map[string]any) error {
			f, _ := out["batchItemFailures"].([]any)
			if len(f) != 1 || f[0].(map[string]any)["itemIdentifier"] != poisonMessage {
				return fmt.Errorf("batchItemFailures %v, want only the poison message", out["batchItemFailures"])
			}
			c, err := s.st.Get(ctx, sampleClaim)
			if err != nil || c.Status != claim.StatusPendingCustomer || c.CustomerNotifiedAt == nil {
				return fmt.Errorf("the validated claim: %+v %v", c, err)
			}
			return s.expectMail(ctx, "http://127.0.0.1:")
		}},
		{function: "OptOutFunction", event: "optout-page.json", before: s.seedSampleToken, ok: func(_ context.Context, out map[string]any) error {
			return page(out, 200, "Fabrikam Partners", "contoso.onmicrosoft.com", "<form")
		}},
		{function: "OptOutFunction", event: "optout-post.json", ok: func(ctx context.Context, out map[string]any) error {
			if err := page(out, 200, "You have opted out"); err != nil {
				return err
			}
			c, err := s.st.Get(ctx, sampleClaim)
			if err != nil || c.Status != claim.StatusOptedOut {
				return fmt.Errorf("after the opt-out: %+v %v", c, err)
			}
			return nil
		}},
		{function: "HistoryFunction", event: "get-history.json", ok: func(_ context.Context, out map[string]any) error {
			body, err := answer(out, 200)
			if err != nil {
				return err
			}
			var actions []string
			items, _ := body["items"].([]any)
			for _, e := range items {
				a, _ := e.(map[string]any)["action"].(string)
				actions = append(actions, a)
			}
			if strings.Join(actions, ",") != "created,submitted,customer_notified,opted_out" {
				return fmt.Errorf("history %v", actions)
			}
			return nil
		}},
		{function: "FinalizeFunction", event: "finalize-schedule.json", before: s.seedDueClaim, ok: func(ctx context.Context, out map[string]any) error {
			if out["approved"] != 1.0 || out["rejected"] != 0.0 {
				return fmt.Errorf("result %v, want the due claim approved at the sample's scheduledTime", out)
			}
			c, err := s.st.Get(ctx, dueClaim)
			if err != nil || c.Status != claim.StatusApproved {
				return fmt.Errorf("the due claim: %+v %v", c, err)
			}
			return nil
		}},
		{function: "HistoryFunction", event: "list-products.json", ok: func(_ context.Context, out map[string]any) error {
			body, err := answer(out, 200)
			if err != nil {
				return err
			}
			if items, _ := body["items"].([]any); len(items) < 2 {
				return fmt.Errorf("catalog %v", body)
			}
			return nil
		}},
	}, s.importSteps()...)
}

// The samples' import id, and the notification's bucket and ETag that the
// real ones replace.
const (
	sampleImport       = "01a20d0c-0000-7000-8000-0000000000a1"
	sampleImportBucket = "cpor-claims-evidencebucket-1a2b3c"
	sampleImportETag   = "0123456789abcdef0123456789abcdef"
)

// importSteps: the template is read, an import started, its file (the
// template's example row, then the same row for an MPN ID the caller does
// not have) put where the upload would, the sample notification processed
// by ImportFunction, and the import and its errors read.
func (s *suite) importSteps() []step {
	ids := func() []string {
		return []string{sampleImport, s.importID, sampleImportETag, s.importETag, sampleImportBucket, s.res.BucketName}
	}
	return []step{
		{function: "ImportsApiFunction", event: "get-import-template.json", ok: func(_ context.Context, out map[string]any) error {
			body, _ := out["body"].(string)
			if out["statusCode"] != 200.0 || !strings.HasPrefix(body, strings.Join(imports.Columns(), ",")+"\n") {
				return fmt.Errorf("template %v", out)
			}
			s.importCSV = body + strings.Replace(strings.SplitN(body, "\n", 2)[1], "1234567", "7654321", 1)
			return nil
		}},
		{function: "ImportsApiFunction", event: "start-import.json", ok: func(_ context.Context, out map[string]any) error {
			body, err := answer(out, 201)
			if err != nil {
				return err
			}
			im, _ := body["import"].(map[string]any)
			s.importID, _ = im["id"].(string)
			if im["status"] != "AwaitingUpload" || s.importID == "" {
				return fmt.Errorf("started import %v", body)
			}
			return nil
		}},
		{function: "ImportFunction", event: "import-notification.json", replace: ids, before: s.putImportFile, ok: func(ctx context.Context, out map[string]any) error {
			if f, _ := out["batchItemFailures"].([]any); len(f) != 0 {
				return fmt.Errorf("batchItemFailures %v", f)
			}
			im, err := s.st.GetImport(ctx, s.importID)
			if err != nil || im.Status != store.ImportCompleted || im.Succeeded != 1 || im.Failed != 1 {
				return fmt.Errorf("the import in the table: %+v %v", im, err)
			}
			return nil
		}},
		{function: "ImportsApiFunction", event: "get-import.json", replace: ids, ok: func(_ context.Context, out map[string]any) error {
			body, err := answer(out, 200)
			if err == nil && (body["status"] != "Completed" || body["total"] != 2.0) {
				err = fmt.Errorf("import %v", body)
			}
			return err
		}},
		{function: "ImportsApiFunction", event: "get-import-errors.json", replace: ids, ok: func(_ context.Context, out map[string]any) error {
			if body, _ := out["body"].(string); out["statusCode"] != 200.0 || body != "row,field,code,message\n3,mpnId,invalid_input,is not one of your MPN IDs\n" {
				return fmt.Errorf("errors %v", out)
			}
			return nil
		}},
		{function: "ImportsApiFunction", event: "list-imports.json", ok: func(_ context.Context, out map[string]any) error {
			body, err := answer(out, 200)
			if err != nil {
				return err
			}
			if items, _ := body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != s.importID {
				return fmt.Errorf("imports %v", body)
			}
			return nil
		}},
	}
}

// putImportFile puts the import's file where its presigned POST would.
func (s *suite) putImportFile(ctx context.Context) error {
	out, err := s.s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.res.BucketName, Key: aws.String(imports.Key(s.importID)),
		Body: strings.NewReader(s.importCSV), ContentType: aws.String(imports.ContentType)})
	if err != nil {
		return err
	}
	s.importETag = strings.Trim(aws.ToString(out.ETag), `"`)
	return nil
}

// answer checks an API Gateway response's status and decodes its JSON body.
func answer(out map[string]any, want int) (map[string]any, error) {
	got, _ := out["statusCode"].(float64)
	raw, _ := out["body"].(string)
	if int(got) != want {
		return nil, fmt.Errorf("statusCode %v, want %d: %s", out["statusCode"], want, raw)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(raw), &body); err != nil {
		return nil, fmt.Errorf("body %q: %v", raw, err)
	}
	return body, nil
}

// page checks an HTML answer's status and that it says each of texts.
func page(out map[string]any, want int, texts ...string) error {
	got, _ := out["statusCode"].(float64)
	body, _ := out["body"].(string)
	if int(got) != want {
		return fmt.Errorf("statusCode %v, want %d", out["statusCode"], want)
	}
	for _, t := range texts {
		if !strings.Contains(body, t) {
			return fmt.Errorf("the page does not say %q", t)
		}
	}
	return nil
}

// sampleDraft is a complete Draft built from the samples' own bodies (the
// created claim and its evidence), at version 1, with its file in storage.
func (s *suite) sampleDraft(ctx context.Context, id string, now time.Time, mutate ...func(*claim.Claim)) (*claim.Claim, error) {
	var req events.APIGatewayV2HTTPRequest
	if err := s.readEvent("create-claim.json", &req); err != nil {
		return nil, err
	}
	var c claim.Claim
	if err := json.Unmarshal([]byte(req.Body), &c); err != nil {
		return nil, fmt.Errorf("create-claim.json body: %w", err)
	}
	var add events.APIGatewayV2HTTPRequest
	if err := s.readEvent("add-evidence.json", &add); err != nil {
		return nil, err
	}
	var ev claim.Evidence
	if err := json.Unmarshal([]byte(add.Body), &ev); err != nil {
		return nil, fmt.Errorf("add-evidence.json body: %w", err)
	}
	ev.ID, ev.AddedAt = id[:len(id)-2]+"e1", now
	claims := req.RequestContext.Authorizer.JWT.Claims
	c.ID, c.Status, c.Version = id, claim.StatusDraft, 1
	c.PartnerID, c.PartnerName = claims["partner_id"], claims["partner_name"]
	c.Evidence = []claim.Evidence{ev}
	c.CreatedAt, c.UpdatedAt = now, now
	for _, m := range mutate {
		m(&c)
	}
	body := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), int(ev.Size)-9)...)
	if _, err := s.s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.res.BucketName), Key: aws.String(evidence.Key(id, ev.ID)),
		Body: bytes.NewReader(body), ContentType: aws.String(ev.ContentType)}); err != nil {
		return nil, fmt.Errorf("upload the sample's evidence: %w", err)
	}
	created := claim.Event{At: now, Actor: claim.Actor{Type: claim.ActorPartner, ID: claims["sub"]}, Action: claim.ActionCreated, ToStatus: claim.StatusDraft}
	if err := s.st.Create(ctx, &c, created); err != nil {
		return nil, fmt.Errorf("seed claim %s: %w", id, err)
	}
	return &c, nil
}

func (s *suite) seedSampleClaim(ctx context.Context) error {
	_, err := s.sampleDraft(ctx, sampleClaim, time.Now().UTC())
	return err
}

// seedSampleToken makes the samples' token the link of the sample claim's
// current notification (the worker emailed another, random one).
func (s *suite) seedSampleToken(ctx context.Context) error {
	c, err := s.st.Get(ctx, sampleClaim)
	if err != nil {
		return err
	}
	if c.OptOutDeadline == nil {
		return fmt.Errorf("claim %s has no opt-out deadline", c.ID)
	}
	op, err := s.st.TokenOp(store.Token{Hash: claim.HashToken(sampleToken), ClaimID: c.ID, Version: c.Version, Deadline: *c.OptOutDeadline})
	if err != nil {
		return err
	}
	op.Item.Put.TableName = aws.String(s.res.TableName)
	_, err = s.ddb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []dbtypes.TransactWriteItem{op.Item}})
	return err
}

// seedDueClaim submits a second claim and validates it in process with the
// worker's clock at 24 November 2026 18:00 UTC: its opt-out deadline is the
// sample schedule's scheduledTime (the fifth business day, Thanksgiving
// excluded, ends 3 December 00:00 in Los Angeles).
func (s *suite) seedDueClaim(ctx context.Context) error {
	notified := time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)
	// Another seeded customer (Northwind): the story's customer, Contoso, has
	// just opted out of the sample claim, and the same partner's claims on
	// its teams workload are refused for the cool-down (API.md
	// customer_declined_recently).
	northwind := func(c *claim.Claim) {
		c.Customer = claim.Customer{TenantID: "5b3c9d4e-1f2a-4c6b-8d7e-9a0b1c2d3e4f", Domain: "northwind.onmicrosoft.com", Name: "Northwind Traders"}
		if c.CustomerContact != nil {
			contact := *c.CustomerContact
			contact.Email = "it@northwindtraders.com"
			c.CustomerContact = &contact
		}
	}
	if _, err := s.sampleDraft(ctx, dueClaim, notified.Add(-time.Hour), northwind); err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	bucket := evidence.New(s.s3c, s.res.BucketName)
	jobs := &jobSink{}
	a := &api.API{Service: service.New(s.st, bucket, jobs, quiet)}
	var req events.APIGatewayV2HTTPRequest
	if err := s.readEvent("submit-claim.json", &req, sampleClaim, dueClaim); err != nil {
		return err
	}
	resp, err := api.Router(a.SubmitRoutes()).Serve(ctx, req)
	if err != nil || resp.StatusCode != 202 || len(jobs.jobs) != 1 {
		return fmt.Errorf("submit the due claim in process: %d %v %s", resp.StatusCode, err, resp.Body)
	}
	cal, err := claim.NewCalendar(s.res.Refs["BusinessTimeZone"], s.res.Refs["BusinessCountry"])
	if err != nil {
		return err
	}
	mailer, err := mail.New(awsclient.SES(s.cfg), s.res.Sender, cal.Location())
	if err != nil {
		return err
	}
	w := &validation.Worker{Store: s.st, Evidence: bucket, Tenants: tenant.New(s.lookupURL), Mail: mailer, Calendar: cal, Clock: func() time.Time { return notified },
		PublicBaseURL: "http://127.0.0.1", Log: quiet}
	body, _ := json.Marshal(jobs.jobs[0])
	out, err := w.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "due", Body: string(body)}}})
	if err != nil || len(out.BatchItemFailures) > 0 {
		return fmt.Errorf("validate the due claim in process: %+v %v", out, err)
	}
	c, err := s.st.Get(ctx, dueClaim)
	if err != nil || c.Status != claim.StatusPendingCustomer || c.CustomerNotifiedAt == nil || c.OptOutDeadline == nil || c.OptOutDeadline.After(time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)) {
		return fmt.Errorf("the due claim: %+v %v", c, err)
	}
	return nil
}

type jobSink struct{ jobs []queue.Job }

func (j *jobSink) Send(_ context.Context, job queue.Job) error {
	j.jobs = append(j.jobs, job)
	return nil
}

// expectJob receives the validation job submit queued (and deletes it: no
// poller runs under sam local).
func (s *suite) expectJob(ctx context.Context, id string, version int64) error {
	out, err := s.sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.res.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 2})
	if err != nil {
		return fmt.Errorf("receive the validation job: %w", err)
	}
	for _, m := range out.Messages {
		var j queue.Job
		if json.Unmarshal([]byte(aws.ToString(m.Body)), &j) == nil && j.ClaimID == id && j.Version == version {
			_, err := s.sqsc.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(s.res.QueueURL), ReceiptHandle: m.ReceiptHandle})
			return err
		}
	}
	return fmt.Errorf("no validation job for %s version %d in the queue (%d messages)", id, version, len(out.Messages))
}

func (s *suite) countMails(ctx context.Context) error {
	all, err := sesmail.Fetch(ctx, s.awsURL)
	s.mails = len(sesmail.To(all, sampleCustomer))
	return err
}

// expectMail checks the customer got one more email, with an opt-out link
// under the public base URL.
func (s *suite) expectMail(ctx context.Context, base string) error {
	all, err := sesmail.Fetch(ctx, s.awsURL)
	if err != nil {
		return err
	}
	to := sesmail.To(all, sampleCustomer)
	if len(to) != s.mails+1 {
		return fmt.Errorf("%d emails to %s, want %d", len(to), sampleCustomer, s.mails+1)
	}
	last := to[len(to)-1]
	if !strings.Contains(last.Text, base) || !strings.Contains(last.Text, "/opt-out/") || !strings.Contains(last.HTML, "/opt-out/") {
		return fmt.Errorf("the customer's email has no opt-out link under %s: %q", base, last.Text)
	}
	return nil
}

// readEvent decodes a sample event, with pairs of strings replaced first.
func (s *suite) readEvent(name string, dst any, replace ...string) error {
	b, err := os.ReadFile(filepath.Join(s.root, "events", name))
	if err != nil {
		return err
	}
	text := string(b)
	for i := 0; i+1 < len(replace); i += 2 {
		text = strings.ReplaceAll(text, replace[i], replace[i+1])
	}
	return json.Unmarshal([]byte(text), dst)
}

// eventFile is the sample as sam local invoke gets it: the file itself, or
// a copy with the step's replacements under work.
func (s *suite) eventFile(st step, work string) (string, error) {
	path := filepath.Join(s.root, "events", st.event)
	if st.replace == nil {
		return path, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	pairs := st.replace()
	text := string(b)
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return "", fmt.Errorf("%s: nothing to replace %s with (an earlier step failed)", st.event, pairs[i])
		}
		text = strings.ReplaceAll(text, pairs[i], pairs[i+1])
	}
	out := filepath.Join(work, st.function+"-"+st.event)
	return out, os.WriteFile(out, []byte(text), 0o600)
}
