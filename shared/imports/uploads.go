package imports

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/evidence"
	"github.com/cpor-claims/claims/shared/service"
	"github.com/cpor-claims/claims/shared/store"
)

// MaxSize is the largest import file: 5 MiB.
const MaxSize = 5 << 20

// ContentType is the one type an import file is uploaded as.
const ContentType = "text/csv"

// Presigner presigns the browser's upload (evidence.Bucket).
type Presigner interface {
	PresignPost(ctx context.Context, key, contentType string, size, max int64, now time.Time) (evidence.Upload, error)
}

var _ Presigner = (*evidence.Bucket)(nil)

// Uploads are the partner's side of imports (ImportsApiFunction).
type Uploads struct {
	Store   *store.Store
	Presign Presigner
	NewID   func() string
}

// NewUploads returns the partner's side; ids are UUIDv7.
func NewUploads(st *store.Store, p Presigner) *Uploads {
	return &Uploads{Store: st, Presign: p, NewID: func() string { return uuid.Must(uuid.NewV7()).String() }}
}

// NewImport is the body of POST /imports.
type NewImport struct {
	FileName string `json:"fileName"`
	Size     int64  `json:"size"`
}

func (n *NewImport) validate() error {
	var errs []claim.FieldError
	n.FileName = strings.TrimSpace(n.FileName)
	if fe := claim.ValidateText("fileName", n.FileName, 255, false); fe != nil {
		errs = append(errs, *fe)
	} else if n.FileName == "" {
		errs = append(errs, claim.FieldError{Field: "fileName", Message: "is required"})
	} else if strings.ContainsAny(n.FileName, `/\`) || path.Base(n.FileName) != n.FileName || n.FileName == ".." {
		errs = append(errs, claim.FieldError{Field: "fileName", Message: "must be a plain file name, without folders"})
	}
	if n.Size < 1 || n.Size > MaxSize {
		errs = append(errs, claim.FieldError{Field: "size", Message: fmt.Sprintf("must be between 1 and %d bytes", MaxSize)})
	}
	if len(errs) > 0 {
		return &claim.ValidationError{Kind: claim.KindInvalid, Errors: errs}
	}
	return nil
}

// View is an import as the API shows it.
type View struct {
	ID          string     `json:"id"`
	FileName    string     `json:"fileName"`
	Status      string     `json:"status"`
	Total       int        `json:"total"`
	Succeeded   int        `json:"succeeded"`
	Failed      int        `json:"failed"`
	Failure     *string    `json:"failure"`
	CreatedAt   time.Time  `json:"createdAt"`
	CompletedAt *time.Time `json:"completedAt"`
}

// ViewOf is the API's form of im.
func ViewOf(im *store.Import) View {
	v := View{ID: im.ID, FileName: im.FileName, Status: im.Status, Total: im.Total, Succeeded: im.Succeeded,
		Failed: im.Failed, CreatedAt: im.CreatedAt, CompletedAt: im.CompletedAt}
	if im.Failure != "" {
		f := im.Failure
		v.Failure = &f
	}
	return v
}

// Started is the answer of POST /imports.
type Started struct {
	Import    View            `json:"import"`
	Upload    evidence.Upload `json:"upload"`
	ExpiresAt time.Time       `json:"expiresAt"`
}

// Start records a new import and returns the upload of its file: a
// text/csv object under the import's own key, of 1 byte to the declared
// size, pinned by the upload's policy.
func (u *Uploads) Start(ctx context.Context, caller service.Caller, n NewImport, now time.Time) (*Started, error) {
	if err := caller.RequireAdmin(); err != nil {
		return nil, err
	}
	if err := n.validate(); err != nil {
		return nil, err
	}
	now = now.UTC()
	im := &store.Import{
		ID: u.NewID(), PartnerID: caller.PartnerID, FileName: n.FileName, Size: n.Size,
		Status: store.ImportAwaitingUpload, CreatedAt: now,
		Owner: store.ImportOwner{Sub: caller.Sub, PartnerName: caller.PartnerName, MPNIDs: caller.MPNIDs, Admin: caller.Admin},
	}
	up, err := u.Presign.PresignPost(ctx, Key(im.ID), ContentType, n.Size, MaxSize, now)
	if err != nil {
		return nil, err
	}
	if err := u.Store.PutImport(ctx, im); err != nil {
		return nil, err
	}
	return &Started{Import: ViewOf(im), Upload: up, ExpiresAt: up.ExpiresAt}, nil
}

// Get reads one of the caller's partner's imports; another partner's is
// not found.
func (u *Uploads) Get(ctx context.Context, caller service.Caller, id string) (*store.Import, error) {
	im, err := u.Store.GetImport(ctx, id)
	if err != nil {
		return nil, err
	}
	if im.PartnerID != caller.PartnerID {
		return nil, fmt.Errorf("import %s: %w", id, store.ErrNotFound)
	}
	return im, nil
}

// List pages the caller's partner's imports, newest first.
func (u *Uploads) List(ctx context.Context, caller service.Caller, limit int, cursor string) ([]View, string, error) {
	page, err := u.Store.ListImports(ctx, caller.PartnerID, limit, cursor)
	if err != nil {
		return nil, "", err
	}
	items := make([]View, len(page.Items))
	for i := range page.Items {
		items[i] = ViewOf(&page.Items[i])
	}
	return items, page.Next, nil
}

// WriteErrors writes the import's errors CSV to w: the header, then one
// line per broken value of each refused row, in row order.
func (u *Uploads) WriteErrors(ctx context.Context, caller service.Caller, id string, w io.Writer) error {
	if _, err := u.Get(ctx, caller, id); err != nil {
		return err
	}
	ew, err := NewErrorsWriter(w)
	if err != nil {
		return err
	}
	err = u.Store.ImportErrors(ctx, id, func(errs []store.RowError) error {
		for _, e := range errs {
			if err := ew.Write(e.Row, e.Field, e.Code, e.Message); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return ew.Flush()
}

// Template is GET /imports/template.csv: the header and the example row.
func Template(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(Columns())
	_ = cw.Write(ExampleRow())
	cw.Flush()
	return cw.Error()
}
