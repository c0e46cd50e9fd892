package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

type tCustomer struct {
	TenantID string `json:"tenantId"`
	Domain   string `json:"domain"`
}

type tProduct struct {
	ID             string `json:"id"`
	SubscriptionID string `json:"subscriptionId,omitempty"`
}

type tContact struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

type tArea string

type tNest struct {
	Nest *tNest `json:"nest"`
}

// tBody has every shape the API's request bodies have (strictjson).
type tBody struct {
	Name     string     `json:"name"`
	Customer tCustomer  `json:"customer"`
	Products []tProduct `json:"products"`
	Contact  *tContact  `json:"contact,omitempty"`
	Count    int8       `json:"count"`
	Size     int64      `json:"size"`
	Tags     []string   `json:"tags"`
	Nest     *tNest     `json:"nest"`
	Area     tArea
	Ignored  string `json:"-"`
	//lint:ignore U1000 an unexported field is never decoded: the tests send "hidden"
	hidden string
}

func TestDecodeJSON(t *testing.T) {
	deep := strings.Repeat(`{"nest":`, MaxDepth) + "null" + strings.Repeat("}", MaxDepth)
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
		{name: "valid", body: `{"name":"Teams <b>","customer":{"tenantId":"t","domain":"d"},"products":[{"id":"teams"}],"contact":{"email":"a@b.c"},"count":-3,"size":9007199254740993,"tags":["a","b"],"nest":{"nest":{}},"Area":"Microsoft365"}`,
			headers: []string{"content-type", "application/json; charset=UTF-8"},
			check: func(t *testing.T, got tBody) {
				if got.Name != "Teams <b>" || got.Customer.Domain != "d" || got.Products[0].ID != "teams" || got.Contact.Email != "a@b.c" || got.Count != -3 ||
					got.Size != 9007199254740993 || len(got.Tags) != 2 || got.Tags[1] != "b" || got.Nest.Nest == nil || got.Nest.Nest.Nest != nil ||
					got.Area != "Microsoft365" {
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
		{name: "nulls leave fields alone", body: `{"name":null,"contact":null,"products":null,"nest":null}`},
		{name: "depth at the limit", body: deep},

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
		{name: "unknown fields everywhere, at once, sorted", body: `{"zeta":1,"customer":{"foo":1,"tenantId":"t"},"products":[{"id":"a"},{"id":"b","bar":true}],"contact":{"phone":"1"},"Ignored":"x","hidden":"x","NAME":"x"}`,
			status: 400, code: CodeInvalidInput, errors: []FieldError{
				fe("Ignored", "unknown field"), fe("NAME", "unknown field"),
				fe("contact.phone", "unknown field"), fe("customer.foo", "unknown field"), fe("hidden", "unknown field"),
				fe("products[1].bar", "unknown field"), fe("zeta", "unknown field"),
			}},
		{name: "wrong types", body: `{"name":1,"customer":"x","products":[{"id":"a"},{"id":5}],"contact":[],"count":1000,"size":1.5,"tags":{"k":1},"nest":{"nest":"n"},"Area":true}`,
			status: 400, code: CodeInvalidInput, errors: []FieldError{
				fe("Area", "must be a string"), fe("contact", "must be an object"),
				fe("count", "is out of range"), fe("customer", "must be an object"),
				fe("name", "must be a string"), fe("nest.nest", "must be an object"),
				fe("products[1].id", "must be a string"),
				fe("size", "must be an integer"), fe("tags", "must be an array"),
			}},
		{name: "wrong types in arrays", body: `{"tags":["a",true,null,{}],"size":"1","count":false}`,
			status: 400, code: CodeInvalidInput, errors: []FieldError{
				fe("count", "must be an integer"), fe("size", "must be an integer"),
				fe("tags[1]", "must be a string"), fe("tags[3]", "must be a string"),
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
	_, err = ReadJSONBody(jsonReq(`{}`, "Content-Type", ContentTypeMergePatch))
	wantProblem(t, err, 415, CodeUnsupportedMediaType)
	_, err = ReadJSONBody(jsonReq(""), ContentTypeJSON, ContentTypeMergePatch)
	wantFields(t, wantProblem(t, err, 400, CodeInvalidInput), []FieldError{fe("", "is required")})
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

// A destination no request body has is a programming error (500), found
// before the body is read.
func TestDecodeJSONUnsupportedDestination(t *testing.T) {
	type withMap struct {
		Tags map[string]string `json:"tags"`
	}
	for _, dst := range []any{&withMap{}, new(float64), new(any)} {
		_, err := DecodeJSON(jsonReq(``), dst, AllowEmptyBody())
		var p *Problem
		if err == nil || errors.As(err, &p) {
			t.Errorf("dst %T: err = %v, want a plain (500) error", dst, err)
		}
	}
}

// An integral number in another form (287.0, 2.87e2) is an integer, as
// JSON Schema's "integer" says; a fraction or an out-of-range value is not.
func TestDecodeJSONIntegralNumbers(t *testing.T) {
	type body struct {
		Size  int64  `json:"size"`
		Sizes []int  `json:"sizes"`
		Ptr   *int16 `json:"ptr"`
		Name  string `json:"name"`
	}
	var b body
	if _, err := DecodeJSON(jsonReq(`{"size":287.0,"sizes":[2.87e2,1E1,3],"ptr":6.5e1,"name":"x"}`), &b); err != nil {
		t.Fatalf("DecodeJSON: %v", err)
	}
	if b.Size != 287 || len(b.Sizes) != 3 || b.Sizes[0] != 287 || b.Sizes[1] != 10 || b.Ptr == nil || *b.Ptr != 65 || b.Name != "x" {
		t.Fatalf("decoded %+v", b)
	}
	_, err := DecodeJSON(jsonReq(`{"size":287.5,"sizes":[1e19,1e999999999],"ptr":-4e4}`), &body{})
	wantFields(t, wantProblem(t, err, 400, CodeInvalidInput), []FieldError{
		fe("ptr", "is out of range"), fe("size", "must be an integer"),
		fe("sizes[0]", "is out of range"), fe("sizes[1]", "must be an integer"),
	})
}
