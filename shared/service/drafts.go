package service

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/evidence"
	"github.com/cpor-claims/claims/shared/store"
)

// Fields are the fields a partner writes: the body of POST /claims and what a
// PATCH may change. Everything else of a claim is the system's.
type Fields struct {
	Name             string                `json:"name,omitempty"`
	MPNID            string                `json:"mpnId"`
	Customer         claim.Customer        `json:"customer"`
	SolutionArea     claim.SolutionArea    `json:"solutionArea"`
	Activity         claim.Activity        `json:"activity"`
	Products         []claim.ProductRef    `json:"products,omitempty"`
	CustomerContact  *claim.Contact        `json:"customerContact,omitempty"`
	TechnicalContact *claim.Contact        `json:"technicalContact,omitempty"`
	PartnerContact   *claim.PartnerContact `json:"partnerContact,omitempty"`
	Revenue          *claim.Revenue        `json:"revenue,omitempty"`
	Comments         string                `json:"comments,omitempty"`
}

// FieldsOf is the editable view of a claim (what a merge patch applies to).
func FieldsOf(c *claim.Claim) Fields {
	return Fields{
		Name: c.Name, MPNID: c.MPNID, Customer: c.Customer, SolutionArea: c.SolutionArea, Activity: c.Activity,
		Products: c.Products, CustomerContact: c.CustomerContact, TechnicalContact: c.TechnicalContact,
		PartnerContact: c.PartnerContact, Revenue: c.Revenue, Comments: c.Comments,
	}
}

func (f Fields) applyTo(c *claim.Claim) {
	c.Name, c.MPNID, c.Customer, c.SolutionArea, c.Activity = f.Name, f.MPNID, f.Customer, f.SolutionArea, f.Activity
	c.Products, c.CustomerContact, c.TechnicalContact = f.Products, f.CustomerContact, f.TechnicalContact
	c.PartnerContact, c.Revenue, c.Comments = f.PartnerContact, f.Revenue, f.Comments
	if c.Products == nil {
		c.Products = []claim.ProductRef{}
	}
}

// NewDraft builds the Draft that caller's fields f make, normalized and
// checked with the field rules (claim.ValidateValues: every value given
// valid, the five required ones present, mpnId one of the caller's), and
// its "created" event with detail. It is the one way a Draft is made:
// POST /claims and each row of a bulk import both come through here.
func (s *Service) NewDraft(caller Caller, f Fields, now time.Time, detail map[string]string) (*claim.Claim, claim.Event, error) {
	now = now.UTC()
	c := &claim.Claim{
		ID: s.NewID(), Status: claim.StatusDraft, Version: 1,
		PartnerID: caller.PartnerID, PartnerName: caller.PartnerName, CreatedBy: caller.Sub,
		Evidence: []claim.Evidence{}, CreatedAt: now, UpdatedAt: now,
	}
	f.applyTo(c)
	claim.Normalize(c)
	if err := claim.ValidateValues(c, caller.MPNIDs); err != nil {
		return nil, claim.Event{}, err
	}
	ev := claim.Event{At: now, Actor: caller.actor(), Action: claim.ActionCreated, ToStatus: claim.StatusDraft, Detail: detail}
	return c, ev, nil
}

// Idempotency is a create's Idempotency-Key and the hash of its body.
type Idempotency struct {
	Key         string
	RequestHash string
}

// Create makes a Draft from f. With an idempotency key, a repeat of the same
// request returns the original claim (and reports replayed); the same key with
// another body is ErrIdempotencyConflict, also when both race.
func (s *Service) Create(ctx context.Context, caller Caller, f Fields, idem *Idempotency, now time.Time) (c *claim.Claim, replayed bool, err error) {
	if err := caller.RequireAdmin(); err != nil {
		return nil, false, err
	}
	now = now.UTC()
	c, ev, err := s.NewDraft(caller, f, now, nil)
	if err != nil {
		return nil, false, err
	}
	var ops []store.Op
	if idem != nil {
		op, err := s.Store.IdempotencyOp(store.IdempotencyRecord{
			PartnerID: caller.PartnerID, Key: idem.Key, RequestHash: idem.RequestHash,
			ClaimID: c.ID, Status: 201, Expires: now.Add(store.IdempotencyTTL).Unix(),
		}, now)
		if err != nil {
			return nil, false, err
		}
		ops = append(ops, op)
	}
	// One transaction: the claim, its event and the key's record. A key
	// already used (by an earlier request, or one racing this one) fails the
	// record's condition and the request is answered as a replay; nothing is
	// read before, so a first create costs one write.
	err = store.Retry(ctx, func() error { return s.Store.Create(ctx, c, ev, ops...) })
	switch {
	case err == nil:
		return c, false, nil
	case errors.Is(err, store.ErrIdempotencyKeyUsed):
		// A racing transaction on the same record (TransactionConflict) was
		// retried: once it committed, the key is used and this replays it.
		c, err := s.replay(ctx, caller, idem, now)
		return c, err == nil, err
	default:
		return nil, false, err
	}
}

func (s *Service) replay(ctx context.Context, caller Caller, idem *Idempotency, now time.Time) (*claim.Claim, error) {
	rec, err := s.Store.GetIdempotency(ctx, caller.PartnerID, idem.Key, now)
	if err != nil {
		return nil, err
	}
	if rec.RequestHash != idem.RequestHash {
		return nil, ErrIdempotencyConflict
	}
	c, err := s.Store.Get(ctx, rec.ClaimID)
	if errors.Is(err, store.ErrNotFound) {
		// The draft was discarded since: the key no longer replays anything.
		return nil, fmt.Errorf("%w: the claim created with this key was discarded", ErrIdempotencyConflict)
	}
	if err != nil {
		return nil, err
	}
	if c.PartnerID != caller.PartnerID {
		// The record is keyed by partner, so this takes a corrupted or
		// forged record; a replay never hands out another partner's claim.
		return nil, fmt.Errorf("%w: the key's record names a claim of another partner", ErrIdempotencyConflict)
	}
	return c, nil
}

// Update changes a Draft's fields: edit receives the current editable view
// and returns the new one (a merge patch is re-applied on a re-read when a
// concurrent edit won, so no update is lost). ifMatch pins a version.
func (s *Service) Update(ctx context.Context, caller Caller, id string, ifMatch *int64, edit func(Fields) (Fields, error), now time.Time) (*claim.Claim, error) {
	if err := caller.RequireAdmin(); err != nil {
		return nil, err
	}
	return s.change(ctx, caller, id, ifMatch, store.Step{Action: claim.ActionUpdated, At: now, Keep: true,
		Edit: func(c *claim.Claim, _ *claim.Event) ([]store.Op, error) {
			if c.Status != claim.StatusDraft {
				return nil, fmt.Errorf("claim is %s: %w", c.Status, claim.ErrLocked)
			}
			f, err := edit(FieldsOf(c))
			if err != nil {
				return nil, err
			}
			f.applyTo(c)
			claim.Normalize(c)
			return nil, claim.ValidateValues(c, caller.MPNIDs)
		}})
}

// Delete discards a Draft, then its evidence objects. The deletion is
// guarded by the version read, so the evidence list deleted is the
// discarded claim's whole list (an evidence added meanwhile changes the
// version and the claim is read again). Objects are deleted after the
// claim, never before: a claim that was submitted meanwhile keeps its
// files. A failure to delete them is logged, not answered: the Draft is
// gone either way.
func (s *Service) Delete(ctx context.Context, caller Caller, id string) error {
	if err := caller.RequireAdmin(); err != nil {
		return err
	}
	var c *claim.Claim
	err := store.Retry(ctx, func() error {
		var err error
		if c, err = s.getForWrite(ctx, caller, id); err != nil {
			return err
		}
		if c.Status != claim.StatusDraft {
			return fmt.Errorf("claim is %s: %w", c.Status, claim.ErrLocked)
		}
		return s.Store.DeleteDraft(ctx, id, c.Version)
	})
	if err != nil {
		return err
	}
	s.deleteObjects(ctx, c)
	return nil
}

func (s *Service) deleteObjects(ctx context.Context, c *claim.Claim) {
	if len(c.Evidence) == 0 {
		return
	}
	keys := make([]string, len(c.Evidence))
	for i, e := range c.Evidence {
		keys[i] = evidence.Key(c.ID, e.ID)
	}
	if err := s.Evidence.Delete(ctx, keys...); err != nil {
		s.Log.ErrorContext(ctx, "discarded draft's evidence objects not deleted", "claimId", c.ID, "objects", len(keys), "error", err)
	}
}

// NewEvidence is the body of POST /claims/{id}/evidence.
type NewEvidence struct {
	FileName    string `json:"fileName"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
}

// AddedEvidence is the answer: the evidence recorded and its upload.
type AddedEvidence struct {
	Evidence  claim.Evidence  `json:"evidence"`
	Upload    evidence.Upload `json:"upload"`
	ExpiresAt time.Time       `json:"expiresAt"`
}

const maxEvidence = 20

func (n *NewEvidence) validate() error {
	var errs []claim.FieldError
	n.FileName = strings.TrimSpace(n.FileName)
	if fe := claim.ValidateText("fileName", n.FileName, 255, false); fe != nil {
		errs = append(errs, *fe)
	} else if n.FileName == "" {
		errs = append(errs, claim.FieldError{Field: "fileName", Message: "is required"})
	} else if strings.ContainsAny(n.FileName, `/\`) || n.FileName == "." || n.FileName == ".." || path.Base(n.FileName) != n.FileName || !utf8.ValidString(n.FileName) {
		errs = append(errs, claim.FieldError{Field: "fileName", Message: "must be a plain file name, without folders"})
	}
	if _, ok := evidence.AllowedTypes[n.ContentType]; !ok {
		errs = append(errs, claim.FieldError{Field: "contentType", Message: "must be one of application/pdf, image/png, image/jpeg, application/vnd.openxmlformats-officedocument.wordprocessingml.document"})
	}
	if n.Size < 1 || n.Size > evidence.MaxSize {
		errs = append(errs, claim.FieldError{Field: "size", Message: fmt.Sprintf("must be between 1 and %d bytes", evidence.MaxSize)})
	}
	if len(errs) > 0 {
		return &claim.ValidationError{Kind: claim.KindInvalid, Errors: errs}
	}
	return nil
}

// evidenceOpen says whether evidence may still be added: while Draft, while
// NeedsInfo and it may still be answered (until respond, before respondBy),
// and while a rejection may still be disputed.
func evidenceOpen(c *claim.Claim, now time.Time) bool {
	switch c.Status {
	case claim.StatusDraft:
		return true
	case claim.StatusNeedsInfo:
		return claim.CheckRespond(c, now) == nil
	case claim.StatusRejected:
		return claim.CheckDispute(c, now) == nil
	}
	return false
}

// AddEvidence records a new evidence file on the claim (evidence_added) and
// returns a presigned upload for it.
func (s *Service) AddEvidence(ctx context.Context, caller Caller, id string, n NewEvidence, now time.Time) (*AddedEvidence, error) {
	if err := caller.RequireAdmin(); err != nil {
		return nil, err
	}
	if err := n.validate(); err != nil {
		// A claim of another partner is still 404, before any input error.
		return nil, s.NotFoundFirst(ctx, caller, id, err)
	}
	now = now.UTC()
	evID := s.NewID()
	var out AddedEvidence
	detail := map[string]string{"evidenceId": evID, "fileName": n.FileName}
	_, err := s.change(ctx, caller, id, nil, store.Step{Action: claim.ActionEvidenceAdded, At: now, Detail: detail, Keep: true,
		Check: func(c *claim.Claim) error {
			if !evidenceOpen(c, now) {
				return fmt.Errorf("claim is %s: %w", c.Status, claim.ErrLocked)
			}
			if len(c.Evidence) >= maxEvidence {
				return &claim.ValidationError{Kind: claim.KindInvalid, Errors: []claim.FieldError{{Field: "evidence", Message: fmt.Sprintf("at most %d files per claim", maxEvidence)}}}
			}
			return nil
		},
		Edit: func(c *claim.Claim, _ *claim.Event) ([]store.Op, error) {
			up, err := s.Evidence.PresignUpload(ctx, evidence.Key(c.ID, evID), n.ContentType, n.Size, now)
			if err != nil {
				return nil, err
			}
			e := claim.Evidence{ID: evID, FileName: n.FileName, ContentType: n.ContentType, Size: n.Size, AddedAt: now}
			c.Evidence = append(append([]claim.Evidence(nil), c.Evidence...), e)
			out = AddedEvidence{Evidence: e, Upload: up, ExpiresAt: up.ExpiresAt}
			return nil, nil
		}})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// stat is what storage answered about one evidence object in this request.
type stat struct {
	obj evidence.Object
	err error
}

// refreshUploads marks each evidence uploaded once storage holds it with the
// declared type and no more than the declared size (HeadObject). It asks
// only about files not yet confirmed: a file confirmed at an earlier submit
// (respond, dispute) is not asked about again, because its key can hold
// nothing else than what its pinned upload policy allowed, and validation
// reads and checks every file's content anyway. The files it asks about are
// asked about at once (one round trip, not one per file), and seen keeps
// the answers across the attempts of one request, so a retry after a
// version conflict asks only about files it has not seen.
func (s *Service) refreshUploads(ctx context.Context, c *claim.Claim, seen map[string]stat) error {
	var ask []int
	for i, e := range c.Evidence {
		if _, ok := seen[e.ID]; !ok && !e.Uploaded {
			ask = append(ask, i)
		}
	}
	answers := make([]stat, len(ask))
	var wg sync.WaitGroup
	for k, i := range ask {
		wg.Go(func() {
			obj, err := s.Evidence.Stat(ctx, evidence.Key(c.ID, c.Evidence[i].ID))
			answers[k] = stat{obj, err}
		})
	}
	wg.Wait()
	for k, i := range ask {
		if a := answers[k]; a.err != nil && !errors.Is(a.err, evidence.ErrMissing) {
			return a.err // a failure is no answer: the request fails
		}
		seen[c.Evidence[i].ID] = answers[k]
	}
	ev := append([]claim.Evidence(nil), c.Evidence...)
	for i := range ev {
		if ev[i].Uploaded {
			continue
		}
		a := seen[ev[i].ID]
		if a.err != nil { // missing
			continue
		}
		ev[i].Uploaded = a.obj.ContentType == ev[i].ContentType && a.obj.Size >= 1 && a.obj.Size <= ev[i].Size
		if ev[i].Uploaded {
			ev[i].Size, ev[i].VersionID = a.obj.Size, a.obj.VersionID
		}
	}
	c.Evidence = ev
	return nil
}
