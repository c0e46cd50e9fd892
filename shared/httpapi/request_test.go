package httpapi

import (
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestHeader(t *testing.T) {
	req := jsonReq("", "if-match", `"3"`, "X-Custom", "v", "IDEMPOTENCY-KEY", "k")
	tests := map[string]string{
		"If-Match": `"3"`, "if-match": `"3"`, "x-custom": "v", "X-CUSTOM": "v",
		"Idempotency-Key": "k", "missing": "",
	}
	for name, want := range tests {
		if got := Header(req, name); got != want {
			t.Errorf("Header(%q) = %q, want %q", name, got, want)
		}
	}
	if Header(events.APIGatewayV2HTTPRequest{}, "x") != "" {
		t.Error("nil headers")
	}
}

func TestLookupHeader(t *testing.T) {
	req := jsonReq("", "idempotency-key", "", "X-Custom", "v")
	if v, ok := LookupHeader(req, "Idempotency-Key"); !ok || v != "" {
		t.Errorf("a header sent empty: %q, %v", v, ok)
	}
	if v, ok := LookupHeader(req, "x-CUSTOM"); !ok || v != "v" {
		t.Errorf("another case: %q, %v", v, ok)
	}
	if _, ok := LookupHeader(req, "If-Match"); ok {
		t.Error("a header not sent is found")
	}
}

func TestQuery(t *testing.T) {
	allowed := []string{"status", "tenantId", "limit", "cursor"}
	tests := []struct {
		name   string
		query  map[string]string
		errors []FieldError // nil: accepted
	}{
		{name: "none", query: nil},
		{name: "allowed", query: map[string]string{"status": "Draft", "limit": "5"}},
		{name: "unknown ones, all named", query: map[string]string{"status": "Draft", "sort": "x", "Limit": "5"},
			errors: []FieldError{fe("Limit", "unknown query parameter"), fe("sort", "unknown query parameter")}},
		{name: "repeated", query: map[string]string{"status": "Draft,Submitted"}, errors: []FieldError{fe("status", "must be given once")}},
		{name: "empty", query: map[string]string{"tenantId": "", "limit": "5", "cursor": ""},
			errors: []FieldError{fe("cursor", "must not be empty"), fe("tenantId", "must not be empty")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Query(events.APIGatewayV2HTTPRequest{QueryStringParameters: tt.query}, allowed...)
			if tt.errors == nil {
				if err != nil || !reflect.DeepEqual(q, tt.query) {
					t.Fatalf("Query = %v, %v", q, err)
				}
				return
			}
			wantFields(t, wantProblem(t, err, 400, CodeInvalidInput), tt.errors)
		})
	}
	_, err := Query(events.APIGatewayV2HTTPRequest{QueryStringParameters: map[string]string{"x": ""}})
	wantFields(t, wantProblem(t, err, 400, CodeInvalidInput), []FieldError{fe("x", "unknown query parameter")})
}

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"", 20, true}, {"1", 1, true}, {"100", 100, true}, {"42", 42, true},
		{"0", 0, false}, {"101", 0, false}, {"-1", 0, false}, {"abc", 0, false}, {"1.5", 0, false},
		{" 5", 0, false}, {"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseLimit(tt.in)
		if tt.ok {
			if err != nil || got != tt.want {
				t.Errorf("ParseLimit(%q) = %d, %v", tt.in, got, err)
			}
			continue
		}
		wantFields(t, wantProblem(t, err, 400, CodeInvalidInput), []FieldError{fe("limit", "must be an integer from 1 to 100")})
	}
}

func TestIfMatchAndETag(t *testing.T) {
	tests := []struct {
		header  string
		version int64
		present bool
		bad     bool
	}{
		{"", 0, false, false},
		{"*", 0, false, false},
		{`"3"`, 3, true, false},
		{`3`, 3, true, false},
		{`W/"3"`, 3, true, false},
		{` "12" `, 12, true, false},
		{`"0"`, 0, true, false},
		{`"abc"`, 0, false, true},
		{`"3`, 0, false, true},
		{`"-1"`, 0, false, true},
		{`"+3"`, 0, false, true},
		{`"3", "4"`, 0, false, true},
		{`W/`, 0, false, true},
	}
	for _, tt := range tests {
		v, present, err := IfMatch(jsonReq("", "if-match", tt.header))
		if tt.bad {
			wantFields(t, wantProblem(t, err, 400, CodeInvalidInput), []FieldError{fe("If-Match", `must be a version such as "3"`)})
			continue
		}
		if err != nil || v != tt.version || present != tt.present {
			t.Errorf("IfMatch(%q) = %d, %v, %v", tt.header, v, present, err)
		}
	}
	if ETag(7) != `"7"` {
		t.Fatalf("ETag = %s", ETag(7))
	}
	// The ETag a response carries is an If-Match a client may send back.
	if v, ok, err := IfMatch(jsonReq("", "If-Match", ETag(42))); v != 42 || !ok || err != nil {
		t.Fatal("round trip")
	}
}

func TestRequestTime(t *testing.T) {
	fixed := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("x", 3600))
	clock := func() time.Time { return fixed }
	var req events.APIGatewayV2HTTPRequest
	req.RequestContext.TimeEpoch = 1767225600123 // 2026-01-01T00:00:00.123Z
	tests := []struct {
		name  string
		req   events.APIGatewayV2HTTPRequest
		clock []func() time.Time
		want  time.Time
	}{
		{"from the event", req, nil, time.Date(2026, 1, 1, 0, 0, 0, 123e6, time.UTC)},
		{"the event wins over the clock", req, []func() time.Time{clock}, time.Date(2026, 1, 1, 0, 0, 0, 123e6, time.UTC)},
		{"clock when no epoch", events.APIGatewayV2HTTPRequest{}, []func() time.Time{nil, clock}, fixed.UTC()},
	}
	for _, tt := range tests {
		got := RequestTime(tt.req, tt.clock...)
		if !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	before := time.Now()
	if got := RequestTime(events.APIGatewayV2HTTPRequest{}); got.Before(before.Add(-time.Second)) || got.Location() != time.UTC {
		t.Errorf("time.Now fallback: %v", got)
	}
}
