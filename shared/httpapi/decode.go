package httpapi

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/strictjson"
)

// Limits on request bodies.
const (
	// MaxBodyBytes bounds a request body (after base64 decoding): 64 KiB.
	MaxBodyBytes = 64 << 10
	// MaxDepth bounds how deeply a body's objects and arrays may nest.
	MaxDepth = strictjson.MaxDepth
	// MaxFieldErrors bounds the errors listed in one problem.
	MaxFieldErrors = strictjson.MaxErrors
)

// ContentTypeMergePatch is the media type of a JSON merge patch (RFC 7396).
const ContentTypeMergePatch = "application/merge-patch+json"

// DecodeOption adjusts DecodeJSON.
type DecodeOption func(*decodeConfig)

type decodeConfig struct {
	contentTypes []string
	allowEmpty   bool
}

// AllowEmptyBody lets an empty body through: DecodeJSON then returns a nil
// body and leaves dst as it was. Without it an empty body is 400.
func AllowEmptyBody() DecodeOption { return func(c *decodeConfig) { c.allowEmpty = true } }

// DecodeJSON reads the request's JSON body strictly into dst (a non-nil
// pointer to a type strictjson supports) and returns the body's bytes (for
// hashing, e.g. an Idempotency-Key's request hash). Every failure is a
// *Problem: 415 unsupported_media_type for a Content-Type other than
// application/json (none is tolerated), 413 payload_too_large past
// MaxBodyBytes, and 400 invalid_input for bad base64, invalid UTF-8, an
// empty body (unless AllowEmptyBody), JSON nested deeper than MaxDepth,
// malformed JSON, more than one JSON value, and, listed all at once by
// dotted path, duplicate, unknown and wrongly typed fields. Field names
// match exactly (encoding/json alone would fold case). A dst of another
// type is a programming error, returned as a plain error (500 at the edge).
func DecodeJSON(req events.APIGatewayV2HTTPRequest, dst any, opts ...DecodeOption) ([]byte, error) {
	if err := strictjson.CheckDestination(dst); err != nil {
		return nil, err
	}
	cfg := decodeConfig{contentTypes: []string{ContentTypeJSON}}
	for _, o := range opts {
		o(&cfg)
	}
	body, err := readBody(req, cfg)
	if err != nil || body == nil {
		return nil, err
	}
	return body, DecodeStrict(body, dst)
}

// ReadJSONBody runs every check of DecodeJSON that needs no destination,
// accepting the given media types (application/json when none are given),
// and returns the body: one well-formed JSON value without duplicate keys.
func ReadJSONBody(req events.APIGatewayV2HTTPRequest, allowed ...string) ([]byte, error) {
	if len(allowed) == 0 {
		allowed = []string{ContentTypeJSON}
	}
	body, err := readBody(req, decodeConfig{contentTypes: allowed})
	if err != nil {
		return nil, err
	}
	if _, err := parse(body); err != nil {
		return nil, err
	}
	return body, nil
}

// EmptyOrJSONObject accepts, for actions that take no input, a missing body
// or an empty JSON object; any member is reported as an unknown field.
func EmptyOrJSONObject(req events.APIGatewayV2HTTPRequest) error {
	_, err := DecodeJSON(req, &struct{}{}, AllowEmptyBody())
	return err
}

// DecodeStrict decodes data (already read, e.g. a merged patch) into dst
// with the checks of DecodeJSON that concern the JSON itself.
func DecodeStrict(data []byte, dst any) error {
	if !utf8.Valid(data) {
		return bodyError("The body is not valid UTF-8.", "must be valid UTF-8")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return bodyError("A JSON body is required.", "is required")
	}
	doc, err := strictjson.Parse(data)
	if err != nil {
		return jsonProblem(err)
	}
	return jsonProblem(doc.Decode(dst))
}

// parse is strictjson.Parse with its duplicate keys as errors, answered as
// problems.
func parse(data []byte) (*strictjson.Document, error) {
	doc, err := strictjson.Parse(data)
	if err == nil {
		err = doc.Duplicates()
	}
	if err != nil {
		return nil, jsonProblem(err)
	}
	return doc, nil
}

// jsonProblem answers strictjson's errors as 400 invalid_input; anything
// else (a destination type it cannot fill) is returned as it is.
func jsonProblem(err error) error {
	var be *strictjson.BodyError
	var fe *strictjson.FieldErrors
	switch {
	case errors.As(err, &be):
		return bodyError(be.Detail, be.Message)
	case errors.As(err, &fe):
		detail := "The body does not fit the expected fields and types."
		if fe.Truncated {
			detail += fmt.Sprintf(" Only the first %d problems are listed.", MaxFieldErrors)
		}
		fields := make([]FieldError, len(fe.List))
		for i, f := range fe.List {
			fields[i] = FieldError(f)
		}
		return BadRequest(detail, fields...)
	}
	return err
}

// bodyError is a 400 about the body as a whole (field "").
func bodyError(detail, message string) *Problem {
	return BadRequest(detail, FieldError{Field: "", Message: message})
}

// readBody checks the media type, undoes base64 and checks size and
// encoding. It returns nil, nil for an empty body the config allows.
func readBody(req events.APIGatewayV2HTTPRequest, cfg decodeConfig) ([]byte, error) {
	if err := checkContentType(Header(req, "Content-Type"), cfg.contentTypes); err != nil {
		return nil, err
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		if len(req.Body) > base64.StdEncoding.EncodedLen(MaxBodyBytes) {
			return nil, PayloadTooLarge()
		}
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, bodyError("The body is not valid base64.", "must be valid base64")
		}
		body = b
	}
	if len(body) > MaxBodyBytes {
		return nil, PayloadTooLarge()
	}
	if !utf8.Valid(body) {
		return nil, bodyError("The body is not valid UTF-8.", "must be valid UTF-8")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if cfg.allowEmpty {
			return nil, nil
		}
		return nil, bodyError("A JSON body is required.", "is required")
	}
	return body, nil
}

func checkContentType(ct string, allowed []string) error {
	if strings.TrimSpace(ct) == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	ok := err == nil && slices.Contains(allowed, mt)
	if cs, has := params["charset"]; ok && has && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		ok = false
	}
	if !ok {
		return UnsupportedMediaType("Send the body as " + strings.Join(allowed, " or ") + " (UTF-8).")
	}
	return nil
}
