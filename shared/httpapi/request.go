package httpapi

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/claim"
)

func header(req events.APIGatewayV2HTTPRequest, name string) string {
	if v, ok := req.Headers[name]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Header reads a request header, whatever its case.
func Header(req events.APIGatewayV2HTTPRequest, name string) string { return header(req, name) }

// Query returns the query parameters, refusing any not allowed (400, each
// unknown parameter named).
func Query(req events.APIGatewayV2HTTPRequest, allowed ...string) (map[string]string, error) {
	var errs []claim.FieldError
	keys := make([]string, 0, len(req.QueryStringParameters))
	for k := range req.QueryStringParameters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !contains(allowed, k) {
			errs = append(errs, claim.FieldError{Field: k, Message: "unknown query parameter"})
		} else if strings.Contains(req.QueryStringParameters[k], ",") {
			errs = append(errs, claim.FieldError{Field: k, Message: "give this parameter once"})
		}
	}
	if len(errs) > 0 {
		return nil, badInput("The query has parameters this route does not take.", errs...)
	}
	return req.QueryStringParameters, nil
}

// DefaultLimit and MaxLimit bound listing pages.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// ParseLimit reads limit: DefaultLimit when absent, else 1..MaxLimit (400).
func ParseLimit(s string) (int, error) {
	if s == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, badInput("limit is out of range.", claim.FieldError{Field: "limit", Message: fmt.Sprintf("must be an integer from 1 to %d", MaxLimit)})
	}
	return n, nil
}

// ETag is a version's entity tag.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// IfMatch reads If-Match as a claim version ("3", 3 or W/"3").
func IfMatch(req events.APIGatewayV2HTTPRequest) (int64, bool, error) {
	v := strings.TrimSpace(header(req, "if-match"))
	if v == "" {
		return 0, false, nil
	}
	v = strings.Trim(strings.TrimPrefix(v, "W/"), `"`)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, false, badInput("If-Match must be the claim's version.", claim.FieldError{Field: "If-Match", Message: "must be a version number"})
	}
	return n, true, nil
}

// RequestTime is when API Gateway received the request.
func RequestTime(req events.APIGatewayV2HTTPRequest) time.Time {
	if ms := req.RequestContext.TimeEpoch; ms > 0 {
		return time.UnixMilli(ms).UTC()
	}
	return time.Now().UTC()
}
