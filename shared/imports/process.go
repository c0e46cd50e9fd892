package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/service"
	"github.com/cpor-claims/claims/shared/store"
)

// Objects reads an import's file.
type Objects interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Sender queues a continuation on the import queue.
type Sender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var (
	_ Objects = (*s3.Client)(nil)
	_ Sender  = (*sqs.Client)(nil)
)

// Continuation is the message an invocation near its deadline leaves for
// the next one: go on with this import from the row its record says.
type Continuation struct {
	ImportID string `json:"importId"`
	FromRow  int    `json:"fromRow"`
}

// Processor turns an uploaded file into Drafts (ImportFunction).
type Processor struct {
	Store    *store.Store
	Drafts   *service.Service // NewDraft: the rules of POST /claims
	Objects  Objects
	Bucket   string
	Queue    Sender
	QueueURL string
	Clock    func() time.Time
	Log      *slog.Logger
	// Workers is how many rows are written at once; Chunk how many rows
	// are done between two progress updates.
	Workers int
	Chunk   int
	// Margin: with less than this left before the invocation's deadline,
	// the rest of the file goes to a continuation message. Every
	// invocation does at least one chunk first, so a file always advances.
	Margin time.Duration
}

// Defaults of a Processor.
const (
	DefaultWorkers = 8
	DefaultChunk   = 50
	DefaultMargin  = 10 * time.Second
)

// Handle is the SQS handler: each message is an S3 notification of
// uploaded files or a continuation. A message that fails is reported
// (ReportBatchItemFailures) and comes back; every step is idempotent.
func (p *Processor) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		if err := p.handleMessage(ctx, m.Body); err != nil {
			p.Log.ErrorContext(ctx, "import message failed; it will be retried", "messageId", m.MessageId, "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

func (p *Processor) handleMessage(ctx context.Context, body string) error {
	var probe struct {
		Records  []json.RawMessage `json:"Records"`
		ImportID string            `json:"importId"`
	}
	if err := json.Unmarshal([]byte(body), &probe); err != nil {
		p.Log.WarnContext(ctx, "unreadable import message dropped", "error", err)
		return nil
	}
	if probe.ImportID != "" {
		return p.Continue(ctx, probe.ImportID)
	}
	var s3ev events.S3Event
	if err := json.Unmarshal([]byte(body), &s3ev); err != nil {
		p.Log.WarnContext(ctx, "unreadable S3 notification dropped", "error", err)
		return nil
	}
	// An s3:TestEvent (sent when the notification is configured) has no
	// records: nothing to do.
	for _, r := range s3ev.Records {
		key, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil {
			key = r.S3.Object.Key
		}
		id := IDFromKey(key)
		if id == "" || (p.Bucket != "" && r.S3.Bucket.Name != p.Bucket) {
			p.Log.WarnContext(ctx, "notification of an object that is no import ignored", "key", key)
			continue
		}
		if err := p.Start(ctx, id, r.S3.Object.ETag); err != nil {
			return err
		}
	}
	return nil
}

// Start begins the import whose file was uploaded with etag, or goes on
// with it when it was begun with that file already (a second notification,
// a redelivery). A finished import is left as it is.
func (p *Processor) Start(ctx context.Context, id, etag string) error {
	im, ok, err := p.Store.StartImport(ctx, id, normETag(etag))
	if errors.Is(err, store.ErrNotFound) {
		p.Log.WarnContext(ctx, "file of an unknown import ignored", "importId", id)
		return nil
	}
	if err != nil || !ok {
		return err
	}
	return p.run(ctx, im)
}

// Continue goes on with an import that is Processing.
func (p *Processor) Continue(ctx context.Context, id string) error {
	im, err := p.Store.GetImport(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil || im.Status != store.ImportProcessing {
		return err
	}
	return p.run(ctx, im)
}

func normETag(e string) string {
	if e == "" || e[0] == '"' {
		return e
	}
	return `"` + e + `"`
}

// open streams the import's file, pinned to the ETag it was started with:
// a file replaced since is not read.
func (p *Processor) open(ctx context.Context, im *store.Import) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{Bucket: &p.Bucket, Key: aws.String(Key(im.ID))}
	if im.ETag != "" {
		in.IfMatch = aws.String(im.ETag)
	}
	out, err := p.Objects.GetObject(ctx, in)
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "PreconditionFailed" {
		// The upload's presigned POST was used again while the first file
		// was being imported: the new content is not read.
		return nil, refuse("the file was replaced while it was being imported: start a new import for the new file")
	}
	if err != nil {
		return nil, fmt.Errorf("read import %s: %w", im.ID, err)
	}
	return out.Body, nil
}

func (p *Processor) run(ctx context.Context, im *store.Import) error {
	scan, err := p.scan(ctx, im)
	var refusal *Refusal
	if errors.As(err, &refusal) {
		if im.NextRow > FirstRow {
			// Only a file replaced after rows were done can be refused
			// now: the message fails until the dead-letter queue (and its
			// alarm); the rows done stay, the import stays Processing.
			return fmt.Errorf("import %s: file refused after rows were done: %w", im.ID, err)
		}
		p.Log.InfoContext(ctx, "import refused", "importId", im.ID, "failure", refusal.Reason)
		if err := p.Store.FailImport(ctx, im.ID, refusal.Reason, p.Clock()); err != nil && !errors.Is(err, store.ErrImportMoved) {
			return err
		}
		return nil
	}
	if err != nil {
		return err
	}
	body, err := p.open(ctx, im)
	if err != nil {
		return err
	}
	defer body.Close()
	rd, err := NewReader(body)
	if err != nil {
		return err
	}
	cur, ok, bad := im.NextRow, im.Succeeded, im.Failed
	if cur < FirstRow {
		cur = FirstRow
	}
	owner := service.Caller{Sub: im.Owner.Sub, PartnerID: im.PartnerID, PartnerName: im.Owner.PartnerName, MPNIDs: im.Owner.MPNIDs, Admin: im.Owner.Admin}
	for chunks := 0; ; chunks++ {
		if chunks > 0 && p.nearDeadline(ctx) {
			return p.handOff(ctx, im.ID, cur)
		}
		var batch []Record
		eof := false
		for len(batch) < p.chunk() {
			rec, err := rd.Next()
			if errors.Is(err, io.EOF) {
				eof = true
				break
			}
			if err != nil {
				return err
			}
			if rec.Row < cur {
				continue
			}
			batch = append(batch, rec)
		}
		created, refused, err := p.rows(ctx, im, owner, scan, batch)
		if err != nil {
			return err
		}
		next := cur
		if len(batch) > 0 {
			next = batch[len(batch)-1].Row + 1
		}
		ok, bad = ok+created, bad+refused
		err = p.Store.ImportProgress(ctx, im.ID, cur, next, scan.Rows, ok, bad, eof, p.Clock())
		if errors.Is(err, store.ErrImportMoved) {
			// Another invocation (a second notification) got there first
			// with the same rows: it goes on from there.
			p.Log.InfoContext(ctx, "import advanced by another invocation", "importId", im.ID, "row", cur)
			return nil
		}
		if err != nil {
			return err
		}
		cur = next
		if eof {
			p.Log.InfoContext(ctx, "import completed", "importId", im.ID, "total", scan.Rows, "succeeded", ok, "failed", bad)
			return nil
		}
	}
}

func (p *Processor) scan(ctx context.Context, im *store.Import) (*Scan, error) {
	body, err := p.open(ctx, im)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	return ScanFile(body)
}

func (p *Processor) chunk() int {
	if p.Chunk > 0 {
		return p.Chunk
	}
	return DefaultChunk
}

func (p *Processor) nearDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	if !ok {
		return false
	}
	margin := p.Margin
	if margin == 0 {
		margin = DefaultMargin
	}
	return time.Until(dl) < margin
}

func (p *Processor) handOff(ctx context.Context, id string, from int) error {
	body, _ := json.Marshal(Continuation{ImportID: id, FromRow: from})
	if _, err := p.Queue.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &p.QueueURL, MessageBody: aws.String(string(body))}); err != nil {
		return fmt.Errorf("hand off import %s: %w", id, err)
	}
	p.Log.InfoContext(ctx, "import handed to the next invocation", "importId", id, "fromRow", from)
	return nil
}

// rows does a chunk's rows, Workers at once, and counts them.
func (p *Processor) rows(ctx context.Context, im *store.Import, owner service.Caller, scan *Scan, batch []Record) (created, refused int, err error) {
	workers := p.Workers
	if workers < 1 {
		workers = DefaultWorkers
	}
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		first error
	)
	jobs := make(chan Record)
	for w := 0; w < min(workers, len(batch)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rec := range jobs {
				ok, err := p.row(ctx, im, owner, scan, rec)
				mu.Lock()
				switch {
				case err != nil:
					if first == nil {
						first = err
					}
				case ok:
					created++
				default:
					refused++
				}
				mu.Unlock()
			}
		}()
	}
	for _, rec := range batch {
		jobs <- rec
	}
	close(jobs)
	wg.Wait()
	return created, refused, first
}

// Error codes of the errors CSV.
const (
	CodeInvalid   = "invalid_input"
	CodeDuplicate = "duplicate_row"
	CodeCells     = "wrong_cell_count"
)

// RowErrors are a row's broken values, or nil when the row makes a valid
// Draft (returned). The mapping feeds service.NewDraft, the code path of
// POST /claims: no rule is repeated here.
func RowErrors(drafts *service.Service, owner service.Caller, scan *Scan, rec Record, importID string, now time.Time) (*claim.Claim, claim.Event, []store.RowError) {
	var errs []store.RowError
	add := func(field, code, msg string) {
		errs = append(errs, store.RowError{Row: rec.Row, Field: field, Code: code, Message: msg})
	}
	if rec.Cells == nil {
		add("row", CodeCells, fmt.Sprintf("has %d cells; the header has %d", rec.CellCount, len(columns)))
		return nil, claim.Event{}, errs
	}
	if first, dup := scan.Duplicates[rec.Row]; dup {
		add("row", CodeDuplicate, fmt.Sprintf("repeats row %d", first))
		return nil, claim.Event{}, errs
	}
	f, ferrs := FieldsOf(rec.Cells)
	for _, fe := range ferrs {
		add(fe.Field, CodeInvalid, fe.Message)
	}
	detail := map[string]string{"importId": importID, "row": strconv.Itoa(rec.Row)}
	c, ev, err := drafts.NewDraft(owner, f, now, detail)
	var ve *claim.ValidationError
	if errors.As(err, &ve) {
		for _, fe := range ve.Errors {
			add(fe.Field, CodeInvalid, fe.Message)
		}
	}
	if len(errs) > 0 {
		return nil, claim.Event{}, errs
	}
	return c, ev, nil
}

// row does one row: a valid row's Draft with the row's guard in one
// transaction (a row created before creates nothing and counts as
// created), a refused row's errors recorded once. ok: the row is created.
func (p *Processor) row(ctx context.Context, im *store.Import, owner service.Caller, scan *Scan, rec Record) (ok bool, err error) {
	var refused []store.RowError
	err = store.Retry(ctx, func() error {
		c, ev, errs := RowErrors(p.Drafts, owner, scan, rec, im.ID, p.Clock())
		if errs != nil {
			refused = errs
			return nil
		}
		// A racing invocation's transaction on the same guard is a lost
		// race: once it commits, the next attempt finds the row done.
		return p.Store.CreateImported(ctx, c, ev, im.ID, rec.Row)
	})
	switch {
	case refused != nil:
		return false, p.Store.PutImportRowErrors(ctx, im.ID, rec.Row, refused)
	case err == nil, errors.Is(err, store.ErrImportRowDone):
		return true, nil
	default:
		return false, err
	}
}
