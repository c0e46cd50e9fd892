package httpapi

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Header returns a request header whatever the case of its name (API
// Gateway lowercases names; tests and other callers may not). A header
// sent more than once arrives joined with commas, as the gateway does.
func Header(req events.APIGatewayV2HTTPRequest, name string) string {
	v, _ := LookupHeader(req, name)
	return v
}

// LookupHeader is Header that also tells whether the header was sent at
// all (an empty value is sent).
func LookupHeader(req events.APIGatewayV2HTTPRequest, name string) (string, bool) {
	if v, ok := req.Headers[name]; ok {
		return v, true
	}
	if v, ok := req.Headers[strings.ToLower(name)]; ok {
		return v, true
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// setHeader sets h[name] = value, replacing a key of another case.
func setHeader(h map[string]string, name, value string) {
	for k := range h {
		if k != name && strings.EqualFold(k, name) {
			delete(h, k)
		}
	}
	h[name] = value
}

// hasHeader reports whether h has name in any case.
func hasHeader(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// Query returns the query parameters after refusing, all at once, every
// parameter not in allowed (400 invalid_input, field = the parameter's
// name), every allowed one given more than once (payload 2.0 joins
// repeats with commas, so no allowed parameter may hold a comma) and every
// allowed one given with an empty value. The map
// may be nil; reading a missing key gives "".
func Query(req events.APIGatewayV2HTTPRequest, allowed ...string) (map[string]string, error) {
	keys := make([]string, 0, len(req.QueryStringParameters))
	for k := range req.QueryStringParameters {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var errs []FieldError
	for _, k := range keys {
		switch {
		case !slices.Contains(allowed, k):
			errs = append(errs, FieldError{Field: k, Message: "unknown query parameter"})
		case strings.Contains(req.QueryStringParameters[k], ","):
			errs = append(errs, FieldError{Field: k, Message: "must be given once"})
		case req.QueryStringParameters[k] == "":
			// ?tenantId= is a value the parameter's format refuses, not
			// the parameter left out (the OpenAPI document says so).
			errs = append(errs, FieldError{Field: k, Message: "must not be empty"})
		}
	}
	if len(errs) > 0 {
		return nil, BadRequest("The query string has parameters this route does not take.", errs...)
	}
	return req.QueryStringParameters, nil
}

// Page sizes of listings.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// ParseLimit reads the limit query parameter: DefaultLimit when empty, else
// an integer from 1 to MaxLimit (400 invalid_input otherwise).
func ParseLimit(s string) (int, error) {
	if s == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, BadRequest("The limit is not a page size this API serves.",
			FieldError{Field: "limit", Message: fmt.Sprintf("must be an integer from 1 to %d", MaxLimit)})
	}
	return n, nil
}

// ETag formats a claim version as an entity tag: "3" (quotes included).
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// IfMatch reads the If-Match header as a claim version. It accepts "3", 3
// and W/"3" (weak tags too: versions are compared, not bytes). Absent or
// "*" (any version) gives present false. Anything else, a list of tags
// included, is 400 invalid_input. Whether the version matches is the
// caller's to decide (412 version_mismatch).
func IfMatch(req events.APIGatewayV2HTTPRequest) (version int64, present bool, err error) {
	v := strings.TrimSpace(Header(req, "If-Match"))
	if v == "" || v == "*" {
		return 0, false, nil
	}
	tag := strings.TrimPrefix(v, "W/")
	if len(tag) >= 2 && tag[0] == '"' && tag[len(tag)-1] == '"' {
		tag = tag[1 : len(tag)-1]
	}
	n, perr := strconv.ParseInt(tag, 10, 64)
	if perr != nil || n < 0 || strings.HasPrefix(tag, "+") {
		return 0, false, BadRequest("If-Match must name one claim version.",
			FieldError{Field: "If-Match", Message: `must be a version such as "3"`})
	}
	return n, true, nil
}

// RequestTime is when API Gateway received the request
// (requestContext.timeEpoch, in milliseconds), in UTC. Without it (a test
// event) it asks the first non-nil clock given, else time.Now.
func RequestTime(req events.APIGatewayV2HTTPRequest, clock ...func() time.Time) time.Time {
	if ms := req.RequestContext.TimeEpoch; ms > 0 {
		return time.UnixMilli(ms).UTC()
	}
	for _, now := range clock {
		if now != nil {
			return now().UTC()
		}
	}
	return time.Now().UTC()
}
