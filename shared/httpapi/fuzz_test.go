package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzDecodeJSON: whatever the body, DecodeJSON does not panic, and every
// failure is a 400 invalid_input naming at least one field error, or a 413.
// Run: go test ./shared/httpapi -run '^$' -fuzz FuzzDecodeJSON -fuzztime 30s
func FuzzDecodeJSON(f *testing.F) {
	seeds := []string{
		``, `{}`, `[]`, `null`, `"x"`, `1`,
		`{"name":"Teams","customer":{"tenantId":"t","domain":"d"},"products":[{"id":"teams"}],"count":1,"tags":["a"]}`,
		`{"customer":{"foo":1},"products":[{"id":5,"bar":true}]}`,
		`{"a":1,"a":2}`, `{"count":1e400,"size":-0}`, `{"size":2.87e2,"count":1.5}`,
		`{"name":"x"} {}`, `{"name":"\ud800"}`, "{\"name\":\"\xff\"}",
		strings.Repeat("[", MaxDepth+1), strings.Repeat(`{"nest":`, MaxDepth) + "{}" + strings.Repeat("}", MaxDepth),
		`{"tags":{"":""},"nest":{"nest":[null,true,{"y":"z"}]}}`,
	}
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(base64.StdEncoding.EncodeToString([]byte(s)), true)
	}
	f.Fuzz(func(t *testing.T, body string, b64 bool) {
		req := jsonReq(body, "Content-Type", "application/json")
		req.IsBase64Encoded = b64
		var dst tBody
		raw, err := DecodeJSON(req, &dst)
		if err == nil {
			if !json.Valid(raw) {
				t.Fatalf("accepted invalid JSON %q", raw)
			}
			return
		}
		var p *Problem
		if !errors.As(err, &p) {
			t.Fatalf("error %v (%T) is not a *Problem", err, err)
		}
		switch {
		case p.Status == 400 && p.Code == CodeInvalidInput && len(p.Errors) > 0 && len(p.Errors) <= MaxFieldErrors:
		case p.Status == 413 && p.Code == CodePayloadTooLarge:
		default:
			t.Fatalf("problem %d %s with %d errors", p.Status, p.Code, len(p.Errors))
		}
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("problem does not marshal: %v", err)
		}
	})
}
