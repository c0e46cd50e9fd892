package api

import (
	"errors"

	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/httpapi"
	"github.com/cpor-claims/claims/shared/service"
	"github.com/cpor-claims/claims/shared/store"
)

// problemOf maps a domain error to the contract's status and code
// (API.md): the one place that does. A *httpapi.Problem passes as itself;
// an error it does not know is returned as it is, which the router answers
// as a 500 that reveals nothing.
func problemOf(err error) error {
	var p *httpapi.Problem
	var ve *claim.ValidationError
	var te *claim.TransitionError
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &ve):
		if ve.Kind == claim.KindIncomplete {
			return httpapi.Incomplete("Complete the fields listed in errors, then submit again.", fieldErrors(ve.Errors)...)
		}
		return httpapi.InvalidInput("One or more values break a rule.", fieldErrors(ve.Errors)...)
	case errors.Is(err, store.ErrNotFound):
		return httpapi.NotFound("No such claim.")
	case errors.Is(err, service.ErrNotYourMPN):
		return httpapi.Forbidden("The claim's MPN ID is not one of the MPN IDs your token carries (mpn_ids).")
	case errors.Is(err, service.ErrForbidden):
		return httpapi.Forbidden("Changing claims needs the " + httpapi.AdminRole + " role.")
	case errors.Is(err, claim.ErrLocked):
		return httpapi.ClaimLocked("Only a Draft can be changed; evidence may be added only while the claim is a Draft, needs information, or may still be disputed.")
	case errors.As(err, &te):
		return httpapi.InvalidTransition(te.Error())
	case errors.Is(err, claim.ErrInvalidTransition):
		return httpapi.InvalidTransition("The claim's status does not allow this action.")
	case errors.Is(err, service.ErrIdempotencyConflict):
		return httpapi.IdempotencyConflict("This Idempotency-Key was used with another request.")
	case errors.Is(err, service.ErrVersionMismatch):
		return httpapi.VersionMismatch(err.Error())
	case errors.Is(err, store.ErrVersionConflict):
		return httpapi.ConcurrentUpdate("The claim was being changed by another request; read it again and retry.")
	case errors.Is(err, store.ErrInvalidCursor):
		return httpapi.BadRequest("The cursor is not valid.", httpapi.FieldError{Field: "cursor", Message: "is not a cursor this API issued"})
	}
	return err
}

// fieldErrors converts the domain's field errors to the problem's.
func fieldErrors(in []claim.FieldError) []httpapi.FieldError {
	out := make([]httpapi.FieldError, len(in))
	for i, f := range in {
		out[i] = httpapi.FieldError(f)
	}
	return out
}
