package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
)

type tCustomer struct {
	TenantID string `json:"tenantId"`
	Domain   string `json:"domain"`
}

type tProduct struct {
	ID             string `json:"id"`
	SubscriptionID string `json:"subscriptionId,omitempty"`
}

type tEmbedded struct {
	Note string `json:"note"`
}

type tBody struct {
	Name     string            `json:"name"`
	Customer tCustomer         `json:"customer"`
	Products []tProduct        `json:"products"`
	Contact  *claim.Contact    `json:"contact,omitempty"`
	Count    int8              `json:"count"`
	Size     int64             `json:"size"`
	Ratio    float64           `json:"ratio"`
	Done     bool              `json:"done"`
	At       *time.Time        `json:"at"`
	Tags     map[string]string `json:"tags"`
	Extra    any               `json:"extra"`
	Area     claim.SolutionArea
	Ignored  string `json:"-"`
	tEmbedded
}

func TestDecodeJSON(t *testing.T) {
	deep := strings.Repeat(`{"extra":`, MaxDepth) + "1" + strings.Repeat("}", MaxDepth)
	tooDeep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	tests := []struct {
		name    string
		body    string
		b64     bool
		headers []string
		opts    []DecodeOption
		status  int // 0: success
		code    string
		errors  []FieldError
		check   func(t *testing.T, got tBody)
	}{
		{name: "valid", body: `{"name":"Teams <b>","customer":{"tenantId":"t","domain":"d"},"products":[{"id":"teams"}],"count":-3,"size":9007199254740993,"ratio":1.5e2,"done":true,"at":"2026-01-02T03:04:05Z","tags":{"a":"b"},"extra":[1,{"x":null}],"Area":"Microsoft365","note":"n"}`,
			headers: []string{"content-type", "application/json; charset=UTF-8"},
			check: func(t *testing.T, got tBody) {
				if got.Name != "Teams <b>" || got.Customer.Domain != "d" || got.Products[0].ID != "teams" || got.Count != -3 ||
					got.Size != 9007199254740993 || got.Ratio != 150 || !got.Done || got.At.Year() != 2026 || got.Tags["a"] != "b" ||
					got.Area != claim.Microsoft365 || got.Note != "n" {
					t.Fatalf("decoded %+v", got)
				}
			}},
		{name: "no content type tolerated", body: `{"name":"x"}`, check: func(t *testing.T, got tBody) {
			if got.Name != "x" {
				t.Fatalf("name = %q", got.Name)
			}
		}},
		{name: "base64 body", body: base64.StdEncoding.EncodeToString([]byte(`{"name":"é"}`)), b64: true, check: func(t *testing.T, got tBody) {
			if got.Name != "é" {
				t.Fatalf("name = %q", got.Name)
			}
		}},
		{name: "nulls leave fields alone", body: `{"name":null,"contact":null,"products":null,"at":null}`},
		{name: "depth at the limit", body: deep},
		{name: "merge patch media type when allowed", body: `{}`, headers: []string{"Content-Type", "application/merge-patch+json"}, opts: []DecodeOption{AllowMergePatch()}},

		{name: "merge patch media type by default", body: `{}`, headers: []string{"Content-Type", "application/merge-patch+json"},
			status: 415, code: CodeUnsupportedMediaType},
		{name: "text/plain", body: `{}`, headers: []string{"Content-Type", "text/plain"}, status: 415, code: CodeUnsupportedMediaType},
		{name: "latin1 charset", body: `{}`, headers: []string{"Content-Type", "application/json; charset=iso-8859-1"}, status: 415, code: CodeUnsupportedMediaType},
		{name: "garbled content type", body: `{}`, headers: []string{"Content-Type", ";;"}, status: 415, code: CodeUnsupportedMediaType},
		{name: "too large", body: `{"name":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, status: 413, code: CodePayloadTooLarge},
		{name: "too large base64", body: base64.StdEncoding.EncodeToString([]byte(`{"name":"` + strings.Repeat("a", MaxBodyBytes) + `"}`)), b64: true,
			status: 413, code: CodePayloadTooLarge},
		{name: "bad base64", body: "not base64!", b64: true, status: 400, code: CodeInvalidInput, errors: []FieldError{fe("", "must be valid base64")}},
		{name: "invalid UTF-8", body: "{\"name\":\"\xff\"}", status: 400, code: CodeInvalidInput, errors: []FieldError{fe("", "must be valid UTF-8")}},
		{name: "invalid UTF-8 in base64", body: base64.StdEncoding.EncodeToString([]byte("{\"name\":\"\xc3\"}")), b64: true,
			status: 400, code: CodeInvalidInput, errors: []FieldError{fe("", "must be valid UTF-8")}},
		{name: "empty", body: "", status: 400, code: CodeInvalidInput, errors: []FieldError{fe("", "is required")}},
		{name: "white space only", body: " \n\t", status: 400, code: CodeInvalidInput, errors: []FieldError{fe("", "is required")}},
		{name: "too deep", body: tooDeep, status: 400, code: CodeInvalidInput,
			errors: []FieldError{fe("", "must not nest deeper than 32 levels")}},
		{name: "brackets in strings do not count", body: `{"name":"` + strings.Repeat("[{", 100) + `"}`},
		{name: "malformed", body: `{"name":}`, status: 400, code: CodeInvalidInput},
		{name: "truncated", body: `{"name":"x"`, status: 400, code: CodeInvalidInput,
			errors: []FieldError{fe("", "is not well-formed JSON: it ends early")}},
		{name: "trailing value", body: `{"name":"x"} {}`, status: 400, code: CodeInvalidInput,
			errors: []FieldError{fe("", "must be exactly one JSON value")}},
		{name: "trailing garbage", body: `{"name":"x"}]`, status: 400, code: CodeInvalidInput,
			errors: []FieldError{fe("", "must be exactly one JSON value")}},
		{name: "not an object", body: `[1]`, status: 400, code: CodeInvalidInput, errors: []FieldError{fe("", "must be an object")}},
		{name: "unknown fields everywhere, at once, sorted", body: `{"zeta":1,"customer":{"foo":1,"tenantId":"t"},"products":[{"id":"a"},{"id":"b","bar":true}],"contact":{"phone":"1"},"Ignored":"x","NAME":"x"}`,
			status: 400, code: CodeInvalidInput, errors: []FieldError{
				fe("Ignored", "unknown field"), fe("NAME", "unknown field"),
				fe("contact.phone", "unknown field"), fe("customer.foo", "unknown field"),
				fe("products[1].bar", "unknown field"), fe("zeta", "unknown field"),
			}},
		{name: "wrong types", body: `{"name":1,"customer":"x","products":[{"id":"a"},{"id":5}],"count":1000,"size":1.5,"ratio":"1","done":"yes","at":"yesterday","tags":{"k":1},"Area":true,"note":[]}`,
			status: 400, code: CodeInvalidInput, errors: []FieldError{
				fe("Area", "must be a string"), fe("at", "must be an RFC 3339 date-time"),
				fe("count", "is out of range"), fe("customer", "must be an object"),
				fe("done", "must be a boolean"), fe("name", "must be a string"), fe("note", "must be a string"),
				fe("products[1].id", "must be a string"), fe("ratio", "must be a number"),
				fe("size", "must be an integer"), fe("tags.k", "must be a string"),
			}},
		{name: "products not an array", body: `{"products":{"id":"a"}}`, status: 400, code: CodeInvalidInput,
			errors: []FieldError{fe("products", "must be an array")}},
		{name: "duplicate keys, and the value kept is checked too", body: `{"name":"a","customer":{"domain":"x","domain":5},"name":"b"}`,
			status: 400, code: CodeInvalidInput, errors: []FieldError{
				fe("customer.domain", "is given more than once"), fe("name", "is given more than once"),
				fe("customer.domain", "must be a string"),
			}},
		{name: "empty body allowed", body: "", opts: []DecodeOption{AllowEmptyBody()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := jsonReq(tt.body, tt.headers...)
			req.IsBase64Encoded = tt.b64
			var got tBody
			body, err := DecodeJSON(req, &got, tt.opts...)
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("DecodeJSON: %v", err)
				}
				if strings.TrimSpace(tt.body) != "" && !json.Valid(body) {
					t.Fatalf("returned body %q", body)
				}
				if tt.check != nil {
					tt.check(t, got)
				}
				return
			}
			p := wantProblem(t, err, tt.status, tt.code)
			wantFields(t, p, tt.errors)
			if tt.status == http.StatusBadRequest && len(p.Errors) == 0 {
				t.Fatal("a 400 lists no errors")
			}
		})
	}
}

func TestDecodeJSONErrorCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 150 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"f` + strings.Repeat("x", i) + `":1`)
	}
	b.WriteString("}")
	_, err := DecodeJSON(jsonReq(b.String()), &tBody{})
	p := wantProblem(t, err, 400, CodeInvalidInput)
	if len(p.Errors) != MaxFieldErrors || !strings.Contains(p.Detail, "first 100") {
		t.Fatalf("%d errors, detail %q", len(p.Errors), p.Detail)
	}
}

func TestDecodeJSONBadDestination(t *testing.T) {
	for _, dst := range []any{nil, tBody{}, (*tBody)(nil)} {
		_, err := DecodeJSON(jsonReq(`{}`), dst)
		var p *Problem
		if err == nil || errors.As(err, &p) {
			t.Errorf("dst %T: err = %v, want a plain (500) error", dst, err)
		}
	}
}

func TestEmptyOrJSONObject(t *testing.T) {
	tests := []struct {
		body   string
		ct     string
		status int
		errors []FieldError
	}{
		{body: ""},
		{body: "{}", ct: "application/json"},
		{body: " { } "},
		{body: `{"x":1,"a":2}`, status: 400, errors: []FieldError{fe("a", "unknown field"), fe("x", "unknown field")}},
		{body: `[]`, status: 400, errors: []FieldError{fe("", "must be an object")}},
		{body: `{}`, ct: "text/plain", status: 415},
	}
	for _, tt := range tests {
		err := EmptyOrJSONObject(jsonReq(tt.body, "content-type", tt.ct))
		if tt.status == 0 {
			if err != nil {
				t.Errorf("%q: %v", tt.body, err)
			}
			continue
		}
		code := CodeInvalidInput
		if tt.status == 415 {
			code = CodeUnsupportedMediaType
		}
		wantFields(t, wantProblem(t, err, tt.status, code), tt.errors)
	}
}

func TestReadJSONBody(t *testing.T) {
	body, err := ReadJSONBody(jsonReq(`{"a":{"b":null}}`, "Content-Type", ContentTypeMergePatch), ContentTypeJSON, ContentTypeMergePatch)
	if err != nil || string(body) != `{"a":{"b":null}}` {
		t.Fatalf("ReadJSONBody = %q, %v", body, err)
	}
	_, err = ReadJSONBody(jsonReq(`{"a":1,"a":2}`))
	wantFields(t, wantProblem(t, err, 400, CodeInvalidInput), []FieldError{fe("a", "is given more than once")})
	_, err = ReadBody(jsonReq(`{}`, "Content-Type", ContentTypeMergePatch))
	wantProblem(t, err, 415, CodeUnsupportedMediaType)
	if b, err := ReadBody(jsonReq(""), AllowEmptyBody()); b != nil || err != nil {
		t.Fatalf("empty allowed: %q, %v", b, err)
	}
}

func TestDecodeStrict(t *testing.T) {
	var got tBody
	if err := DecodeStrict([]byte(`{"customer":{"tenantId":"t"}}`), &got); err != nil || got.Customer.TenantID != "t" {
		t.Fatalf("DecodeStrict = %v, %+v", err, got)
	}
	err := DecodeStrict([]byte(`{"customer":{"tenantId":"t","x":1}}`), &got)
	wantFields(t, wantProblem(t, err, 400, CodeInvalidInput), []FieldError{fe("customer.x", "unknown field")})
	err = DecodeStrict([]byte("\"\xfe\""), &got)
	wantProblem(t, err, 400, CodeInvalidInput)
	err = DecodeStrict(nil, &got)
	wantProblem(t, err, 400, CodeInvalidInput)
}

// TestGoReportsTypeErrorPaths pins what encoding/json of this toolchain
// reports in UnmarshalTypeError.Field and that the fallback maps it onto
// the API's path form.
func TestGoReportsTypeErrorPaths(t *testing.T) {
	tests := []struct {
		body string
		// Go 1.26's default encoding/json, then GOEXPERIMENT=jsonv2.
		goField []string
		want    []string
	}{
		{`{"products":[{"id":5}]}`, []string{"products.id", "products.0.id"}, []string{"products.id", "products[0].id"}},
		{`{"customer":{"tenantId":1}}`, []string{"customer.tenantId"}, []string{"customer.tenantId"}},
		{`{"count":1000}`, []string{"count"}, []string{"count"}},
		{`{"products":"x"}`, []string{"products"}, []string{"products"}},
	}
	for _, tt := range tests {
		var dst tBody
		err := json.Unmarshal([]byte(tt.body), &dst)
		var ute *json.UnmarshalTypeError
		if !errors.As(err, &ute) {
			t.Fatalf("%s: %v is no UnmarshalTypeError", tt.body, err)
		}
		i := indexOf(tt.goField, ute.Field)
		if i < 0 {
			t.Fatalf("%s: Go reports Field %q, not one of %q", tt.body, ute.Field, tt.goField)
		}
		if got := decodeFieldError(err, reflect.TypeFor[tBody]()); got.Field != tt.want[min(i, len(tt.want)-1)] {
			t.Errorf("%s: field %q, want %q", tt.body, got.Field, tt.want[i])
		}
	}
	// An unknown field's error names only the member.
	dec := json.NewDecoder(strings.NewReader(`{"customer":{"foo":1}}`))
	dec.DisallowUnknownFields()
	err := dec.Decode(&tBody{})
	if got := decodeFieldError(err, reflect.TypeFor[tBody]()); got != fe("foo", "unknown field") {
		t.Errorf("unknown field: %+v from %v", got, err)
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func TestJSONPath(t *testing.T) {
	typ := reflect.TypeFor[tBody]()
	tests := map[string]string{
		"":                  "",
		"products.0.id":     "products[0].id",
		"products.id":       "products.id",
		"Products.ID":       "products.id",
		"Customer.TenantID": "customer.tenantId",
		"tags.k":            "tags.k",
		"extra.3.x":         "extra.3.x",
		"Note":              "note",
	}
	for in, want := range tests {
		if got := jsonPath(in, typ); got != want {
			t.Errorf("jsonPath(%q) = %q, want %q", in, got, want)
		}
	}
	if got := jsonPath("0.ID", reflect.TypeFor[[]tProduct]()); got != "[0].id" {
		t.Errorf("jsonPath on a slice = %q", got)
	}
}

func TestTypeMessage(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{"", "must be a string"}, {true, "must be a boolean"}, {int8(1), "must be an integer in range"},
		{uint(1), "must be a non-negative integer in range"}, {1.0, "must be a number in range"},
		{tProduct{}, "must be an object"}, {map[string]int{}, "must be an object"}, {[]int{}, "must be an array"},
		{time.Time{}, "must be an RFC 3339 date-time"}, {make(chan int), "has the wrong type"},
	}
	for _, tt := range tests {
		if got := typeMessage(reflect.TypeOf(tt.v)); got != tt.want {
			t.Errorf("typeMessage(%T) = %q, want %q", tt.v, got, tt.want)
		}
	}
	if got := typeMessage(nil); got != "has the wrong type" {
		t.Errorf("typeMessage(nil) = %q", got)
	}
}

type tMisc struct {
	Raw    json.RawMessage   `json:"raw"`
	Num    json.Number       `json:"num"`
	Bytes  []byte            `json:"bytes"`
	U      uint16            `json:"u"`
	F32    float32           `json:"f32"`
	IntKey map[int]string    `json:"intKey"`
	Arr    [2]int            `json:"arr"`
	Quoted int               `json:"quoted,string"`
	Deep   map[string][]bool `json:"deep"`
	*TEmbeddedPtr
}

// TEmbeddedPtr is exported: encoding/json cannot allocate an embedded
// pointer to an unexported struct.
type TEmbeddedPtr struct {
	Note string `json:"note"`
}

func TestDecodeJSONOtherKinds(t *testing.T) {
	var ok tMisc
	if _, err := DecodeJSON(jsonReq(`{"raw":{"any":[1]},"num":"12.5","bytes":"aGk=","u":65535,"f32":1.5,"intKey":{"7":"x"},"arr":[1,2],"quoted":"5","deep":{"a":[true]},"note":"n"}`), &ok); err != nil {
		t.Fatalf("DecodeJSON: %v", err)
	}
	if string(ok.Raw) != `{"any":[1]}` || ok.Num != "12.5" || string(ok.Bytes) != "hi" || ok.IntKey[7] != "x" || ok.Quoted != 5 || ok.Note != "n" {
		t.Fatalf("decoded %+v", ok)
	}
	_, err := DecodeJSON(jsonReq(`{"num":"x","bytes":"!!","u":-1,"f32":1e39,"intKey":{"k":"x"},"arr":{},"deep":{"a":[true,1]}}`), &tMisc{})
	wantFields(t, wantProblem(t, err, 400, CodeInvalidInput), []FieldError{
		fe("arr", "must be an array"), fe("bytes", "must be a base64 string"), fe("deep.a[1]", "must be a boolean"),
		fe("f32", "is out of range"), fe("intKey.k", "is not a valid key"), fe("num", "must be a number"),
		fe("u", "must be a non-negative integer"),
	})
	// ",string" fields are left to encoding/json: its error is the fallback.
	_, err = DecodeJSON(jsonReq(`{"quoted":5}`), &tMisc{})
	wantProblem(t, err, 400, CodeInvalidInput)
}

// An integral number in another form (287.0, 2.87e2) is an integer, as
// JSON Schema's "integer" says; a fraction or an out-of-range value is not.
func TestDecodeJSONIntegralNumbers(t *testing.T) {
	type body struct {
		Size  int64   `json:"size"`
		Sizes []int   `json:"sizes"`
		Ptr   *uint16 `json:"ptr"`
		Name  string  `json:"name"`
	}
	var b body
	if _, err := DecodeJSON(jsonReq(`{"size":287.0,"sizes":[2.87e2,1E1,3],"ptr":6.5e1,"name":"x"}`), &b); err != nil {
		t.Fatalf("DecodeJSON: %v", err)
	}
	if b.Size != 287 || len(b.Sizes) != 3 || b.Sizes[0] != 287 || b.Sizes[1] != 10 || b.Ptr == nil || *b.Ptr != 65 || b.Name != "x" {
		t.Fatalf("decoded %+v", b)
	}
	_, err := DecodeJSON(jsonReq(`{"size":287.5,"sizes":[1e19,1e999999999],"ptr":-1.0}`), &body{})
	wantFields(t, wantProblem(t, err, 400, CodeInvalidInput), []FieldError{
		fe("ptr", "must be a non-negative integer"), fe("size", "must be an integer"),
		fe("sizes[0]", "is out of range"), fe("sizes[1]", "must be an integer"),
	})
}
