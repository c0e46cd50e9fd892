package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzDecode holds the walker to encoding/json: whatever the document,
// Decode does not panic; it fails with a *BodyError or a non-empty
// *FieldErrors of at most MaxErrors, leaving dst alone; and what it
// accepts, encoding/json (strict: unknown fields refused) decodes to the
// same value, both from the document itself (when encoding/json can: it
// refuses 287.0 for an integer, which JSON Schema's "integer" allows) and
// from the value re-encoded.
// Run: go test ./shared/strictjson -run '^$' -fuzz FuzzDecode -fuzztime 30s
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `"x"`, `1`,
		`{"name":"n","kind":"k","items":[{"id":"a"},{"id":"b","subscriptionId":"s"}],"owner":{"id":"o"},"size":287,"small":-1,"tags":["t"],"Untag":"u"}`,
		`{"items":[{"id":5,"bar":true}],"owner":null,"size":2.87e2}`, `{"a":1,"a":2}`, `{"size":1e400,"small":-0}`,
		`{"name":"x"} {}`, `{"name":"\ud800"}`, "{\"name\":\"\xff\"}", `{"NAME":"x","size":"1"}`,
		strings.Repeat("[", MaxDepth+1), strings.Repeat(`{"owner":`, 3) + "{}" + strings.Repeat("}", 3),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		got := body{Name: "before"}
		err := decode([]byte(doc), &got)
		if err != nil {
			var be *BodyError
			var fes *FieldErrors
			switch {
			case errors.As(err, &be):
				if be.Detail == "" || be.Message == "" {
					t.Fatalf("empty body error %+v", be)
				}
			case errors.As(err, &fes):
				if len(fes.List) == 0 || len(fes.List) > MaxErrors {
					t.Fatalf("%d field errors", len(fes.List))
				}
			default:
				t.Fatalf("error %v (%T)", err, err)
			}
			if !reflect.DeepEqual(got, body{Name: "before"}) {
				t.Fatalf("a failed decode changed dst: %+v", got)
			}
			return
		}
		if ref, ok := strictStd([]byte(doc)); ok && !reflect.DeepEqual(normal(ref), normal(got)) {
			t.Fatalf("encoding/json decodes %+v, strictjson %+v", ref, got)
		}
		again, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		ref, ok := strictStd(again)
		if !ok || !reflect.DeepEqual(normal(ref), normal(got)) {
			t.Fatalf("re-encoded %s decodes to %+v (%v), strictjson gave %+v", again, ref, ok, got)
		}
	})
}

// strictStd is encoding/json refusing unknown fields and trailing data.
func strictStd(data []byte) (body, bool) {
	var out body
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if dec.Decode(&out) != nil || dec.More() {
		return body{}, false
	}
	return out, true
}

// normal drops what the two decoders may legitimately differ in: the
// skipped field, and nil against empty slices (both mean none).
func normal(b body) body {
	b.Skipped = ""
	if len(b.Items) == 0 {
		b.Items = nil
	}
	if len(b.Tags) == 0 {
		b.Tags = nil
	}
	return b
}
