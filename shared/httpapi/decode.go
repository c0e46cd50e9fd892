package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cpor-claims/claims/shared/claim"
)

// Limits on request bodies.
const (
	MaxBodyBytes = 64 << 10
	MaxDepth     = 32
)

// ReadJSONBody returns the request's body after the checks every JSON body
// passes: base64 undone, at most MaxBodyBytes (413), present, valid UTF-8,
// one JSON value nested at most MaxDepth deep, and a JSON content type
// (allowed: application/json unless others are named; none given is
// tolerated).
func ReadJSONBody(req events.APIGatewayV2HTTPRequest, allowed ...string) ([]byte, error) {
	if len(allowed) == 0 {
		allowed = []string{"application/json"}
	}
	if ct := header(req, "content-type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !contains(allowed, strings.ToLower(mt)) {
			return nil, NewProblem(http.StatusUnsupportedMediaType, "unsupported_media_type", "Unsupported media type",
				"Send "+strings.Join(allowed, " or ")+".")
		}
	}
	body, err := rawBody(req)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badInput("A JSON body is required.")
	}
	if err := checkJSON(body); err != nil {
		return nil, err
	}
	return body, nil
}

func rawBody(req events.APIGatewayV2HTTPRequest) ([]byte, error) {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		if base64.StdEncoding.DecodedLen(len(req.Body)) > MaxBodyBytes+3 {
			return nil, TooLarge()
		}
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, badInput("The body is not valid base64.")
		}
		body = b
	}
	if len(body) > MaxBodyBytes {
		return nil, TooLarge()
	}
	if !utf8.Valid(body) {
		return nil, badInput("The body is not valid UTF-8.")
	}
	return body, nil
}

// checkJSON: one well-formed value, nested at most MaxDepth deep.
func checkJSON(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() == "EOF" && depth == 0 {
				break
			}
			return badInput("The body is not well-formed JSON: " + syntaxMessage(err))
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			if depth > MaxDepth {
				return badInput(fmt.Sprintf("The JSON is nested deeper than %d levels.", MaxDepth))
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 && !dec.More() {
			// One value read: anything after it is an error.
			if _, err := dec.Token(); err == nil {
				return badInput("The body holds more than one JSON value.")
			} else if err.Error() != "EOF" {
				return badInput("The body is not well-formed JSON: " + syntaxMessage(err))
			}
			break
		}
	}
	return nil
}

func syntaxMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "json: ")
}

// DecodeJSON reads the body (ReadJSONBody) strictly into dst and returns it.
func DecodeJSON(req events.APIGatewayV2HTTPRequest, dst any) ([]byte, error) {
	body, err := ReadJSONBody(req)
	if err != nil {
		return nil, err
	}
	return body, DecodeStrict(body, dst)
}

// EmptyOrJSONObject accepts a missing body or an empty JSON object (actions
// that take no input).
func EmptyOrJSONObject(req events.APIGatewayV2HTTPRequest) error {
	body, err := rawBody(req)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := checkJSON(body); err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil || len(m) > 0 {
		return badInput("This action takes no body (or an empty object).")
	}
	return nil
}

// DecodeStrict decodes well-formed JSON into dst, first checking it against
// dst's type: every unknown field and every value of the wrong type is
// reported at once, by dotted path (400 invalid_input).
func DecodeStrict(data []byte, dst any) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return badInput("The body is not well-formed JSON: " + syntaxMessage(err))
	}
	var errs []claim.FieldError
	check(&errs, "", v, reflect.TypeOf(dst).Elem())
	if len(errs) > 0 {
		return badInput("The body does not fit the expected fields and types.", errs...)
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return badInput("The body cannot be read: " + syntaxMessage(err))
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func field(path string) string {
	if path == "" {
		return "(body)"
	}
	return path
}

// check walks a decoded JSON value against a Go type.
func check(errs *[]claim.FieldError, path string, v any, t reflect.Type) {
	if v == nil {
		return // null: absent
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	bad := func(msg string) { *errs = append(*errs, claim.FieldError{Field: field(path), Message: msg}) }
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			bad("must be an object")
			return
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				*errs = append(*errs, claim.FieldError{Field: join(path, k), Message: "unknown field"})
				continue
			}
			check(errs, join(path, k), obj[k], ft)
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			bad("must be an array")
			return
		}
		for i, e := range arr {
			check(errs, fmt.Sprintf("%s[%d]", path, i), e, t.Elem())
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			bad("must be an object")
			return
		}
		for k, e := range obj {
			check(errs, join(path, k), e, t.Elem())
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			bad("must be a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			bad("must be true or false")
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			bad("must be an integer")
			return
		}
		if _, err := n.Int64(); err != nil {
			bad("must be an integer")
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			bad("must be a number")
		}
	}
}

// jsonFields maps a struct's JSON names (exactly, not case-folded) to types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	return m
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
