package httpapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestMergePatchRFC7396AppendixA(t *testing.T) {
	// RFC 7396, appendix A. Cases whose patch is not an object replace the
	// whole target in the RFC; this API refuses them (TestMergePatchRefuses).
	tests := []struct{ original, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		// and the API's own cases
		{`{"customer":{"tenantId":"t","domain":"d"},"products":[{"id":"a"}]}`, `{"customer":{"domain":"e"},"products":[]}`,
			`{"customer":{"tenantId":"t","domain":"e"},"products":[]}`},
		{`{"size":9007199254740993}`, `{"n":12345678901234567890}`, `{"size":9007199254740993,"n":12345678901234567890}`},
		{`{"a":1}`, `{}`, `{"a":1}`},
	}
	for _, tt := range tests {
		got, err := MergePatch([]byte(tt.original), []byte(tt.patch))
		if err != nil {
			t.Errorf("MergePatch(%s, %s): %v", tt.original, tt.patch, err)
			continue
		}
		if !jsonEqual(t, got, []byte(tt.want)) {
			t.Errorf("MergePatch(%s, %s) = %s, want %s", tt.original, tt.patch, got, tt.want)
		}
	}
}

func TestMergePatchRefuses(t *testing.T) {
	tests := []struct {
		name, patch string
		field       FieldError
	}{
		{"array (RFC: replaces)", `["c"]`, fe("", "must be an object")},
		{"null (RFC: replaces)", `null`, fe("", "must be an object")},
		{"string (RFC: replaces)", `"bar"`, fe("", "must be an object")},
		{"malformed", `{"a":`, fe("", "is not well-formed JSON: it ends early")},
		{"two values", `{} {}`, fe("", "must be exactly one JSON value")},
		{"duplicate keys", `{"a":1,"a":null}`, fe("a", "is given more than once")},
		{"too deep", strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1), fe("", "must not nest deeper than 32 levels")},
	}
	for _, tt := range tests {
		_, err := MergePatch([]byte(`{"a":"b"}`), []byte(tt.patch))
		wantFields(t, wantProblem(t, err, 400, CodeInvalidInput), []FieldError{tt.field})
	}
	// A malformed original is the server's fault: a plain error.
	if _, err := MergePatch([]byte(`{`), []byte(`{}`)); err == nil || ProblemFrom(err).Status != 500 {
		t.Fatalf("malformed original: %v", err)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	for _, p := range []struct {
		b []byte
		v *any
	}{{a, &x}, {b, &y}} {
		dec := json.NewDecoder(strings.NewReader(string(p.b)))
		dec.UseNumber()
		if err := dec.Decode(p.v); err != nil {
			t.Fatalf("%s: %v", p.b, err)
		}
	}
	return reflect.DeepEqual(x, y)
}
