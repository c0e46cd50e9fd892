package strictjson

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type item struct {
	ID  string `json:"id"`
	Sub string `json:"subscriptionId,omitempty"`
}

type kind string

type body struct {
	Name    string   `json:"name"`
	Kind    kind     `json:"kind"`
	Items   []item   `json:"items"`
	Owner   *item    `json:"owner,omitempty"`
	Size    int64    `json:"size"`
	Small   int8     `json:"small"`
	Tags    []string `json:"tags"`
	Untag   string
	Skipped string `json:"-"`
}

// decode is Parse, then Decode.
func decode(data []byte, dst any) error {
	doc, err := Parse(data)
	if err != nil {
		return err
	}
	return doc.Decode(dst)
}

func fe(f, m string) FieldError { return FieldError{Field: f, Message: m} }

func TestDecode(t *testing.T) {
	var got body
	err := decode([]byte(`{"name":"n","kind":"k","items":[{"id":"a"},{"id":"b","subscriptionId":"s"}],"owner":{"id":"o"},"size":2.87e2,"small":-128,"tags":[],"Untag":"u"}`), &got)
	want := body{Name: "n", Kind: "k", Items: []item{{ID: "a"}, {ID: "b", Sub: "s"}}, Owner: &item{ID: "o"}, Size: 287, Small: -128, Tags: []string{}, Untag: "u"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode = %v, %+v", err, got)
	}

	tests := []struct {
		doc  string
		want []FieldError
	}{
		{`[]`, []FieldError{fe("", "must be an object")}},
		{`{"name":"a","name":"b","items":[{"id":"x","id":1}]}`, []FieldError{
			fe("name", "is given more than once"), fe("items[0].id", "is given more than once"), fe("items[0].id", "must be a string")}},
		{`{"Name":"x","-":1,"Skipped":"s","owner":{"ID":"o"}}`, []FieldError{
			fe("-", "unknown field"), fe("Name", "unknown field"), fe("Skipped", "unknown field"), fe("owner.ID", "unknown field")}},
		{`{"size":1.5,"small":128,"items":{},"tags":[1],"kind":null,"owner":"o"}`, []FieldError{
			fe("items", "must be an array"), fe("owner", "must be an object"), fe("size", "must be an integer"),
			fe("small", "is out of range"), fe("tags[0]", "must be a string")}},
		{`{"size":1e999999999,"small":"1"}`, []FieldError{fe("size", "must be an integer"), fe("small", "must be an integer")}},
	}
	for _, tt := range tests {
		before := body{Name: "kept"}
		got := before
		err := decode([]byte(tt.doc), &got)
		var fes *FieldErrors
		if !errors.As(err, &fes) || !reflect.DeepEqual(fes.List, tt.want) {
			t.Errorf("%s: %v, want %v", tt.doc, err, tt.want)
		}
		if !reflect.DeepEqual(got, before) {
			t.Errorf("%s: a failed decode changed dst: %+v", tt.doc, got)
		}
	}
}

func TestErrorCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range MaxErrors + 20 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"x` + strings.Repeat("y", i) + `":1`)
	}
	b.WriteString("}")
	var fes *FieldErrors
	if err := decode([]byte(b.String()), &body{}); !errors.As(err, &fes) || len(fes.List) != MaxErrors || !fes.Truncated {
		t.Fatalf("err = %v", err)
	}
}

func TestParse(t *testing.T) {
	tests := map[string]string{
		`{"a":`:                         "is not well-formed JSON: it ends early",
		`{"a" 1}`:                       "is not well-formed JSON at byte 5: invalid character '1' after object key",
		`{} {}`:                         "must be exactly one JSON value",
		strings.Repeat("[", MaxDepth+1): "must not nest deeper than 32 levels",
		strings.Repeat("[", MaxDepth):   "is not well-formed JSON: it ends early",
	}
	for doc, want := range tests {
		_, err := Parse([]byte(doc))
		var be *BodyError
		if !errors.As(err, &be) || be.Message != want || be.Detail == "" {
			t.Errorf("Parse(%.40q) = %v, want %q", doc, err, want)
		}
	}
	doc, err := Parse([]byte(`{"a":{"b":1,"b":2},"s":"[[[["}`))
	if err != nil {
		t.Fatal(err)
	}
	var fes *FieldErrors
	if err := doc.Duplicates(); !errors.As(err, &fes) || !reflect.DeepEqual(fes.List, []FieldError{fe("a.b", "is given more than once")}) {
		t.Fatalf("Duplicates = %v", err)
	}
}

type (
	withMap      struct{ M map[string]string }
	withFloat    struct{ F float64 }
	withBool     struct{ B bool }
	withAny      struct{ A any }
	withEmbedded struct{ item }
	withQuoted   struct {
		N int `json:"n,string"`
	}
	withRaw struct {
		R json.RawMessage // decodes itself
	}
	selfDecoding string
	withSelf     struct{ S selfDecoding }
	recursive    struct {
		Next *recursive `json:"next"`
	}
)

func (s *selfDecoding) UnmarshalJSON([]byte) error { return nil }

func TestCheckDestination(t *testing.T) {
	for _, dst := range []any{&body{}, &struct{}{}, &recursive{}, new([]item), new(string)} {
		if err := CheckDestination(dst); err != nil {
			t.Errorf("%T: %v", dst, err)
		}
	}
	for _, dst := range []any{nil, body{}, (*body)(nil), &withMap{}, &withFloat{}, &withBool{}, &withAny{},
		&withEmbedded{}, &withQuoted{}, &withRaw{}, &withSelf{}, new(uint)} {
		if err := CheckDestination(dst); err == nil {
			t.Errorf("%T accepted", dst)
		}
		if err := decode([]byte(`{}`), dst); err == nil || errors.As(err, new(*FieldErrors)) {
			t.Errorf("%T: Decode = %v, want a plain error", dst, err)
		}
	}
}
