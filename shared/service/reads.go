package service

import (
	"context"
	"strings"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/store"
)

// Get returns one claim of the caller's partner.
func (s *Service) Get(ctx context.Context, caller Caller, id string) (*claim.Claim, error) {
	return s.get(ctx, caller, id)
}

// List pages the caller's partner's claims, newest first.
func (s *Service) List(ctx context.Context, caller Caller, q store.ListQuery) (store.Page, error) {
	return s.Store.List(ctx, caller.PartnerID, q)
}

// History returns a claim's events, oldest first: one Query reads the
// claim (to check it is the caller's partner's) and its events together.
func (s *Service) History(ctx context.Context, caller Caller, id string) ([]claim.Event, error) {
	c, events, err := s.Store.ClaimHistory(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := caller.owns(c); err != nil {
		return nil, err
	}
	return events, nil
}

// EvidenceTemplateURL is where to download the PoE template.
func (s *Service) EvidenceTemplateURL(ctx context.Context) (string, error) {
	return s.Evidence.TemplateURL(ctx)
}

func trimmed(s string) string { return strings.TrimSpace(s) }
