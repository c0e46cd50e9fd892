package httpapi

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"mime"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Limits on request bodies.
const (
	// MaxBodyBytes bounds a request body (after base64 decoding): 64 KiB.
	MaxBodyBytes = 64 << 10
	// MaxDepth bounds how deeply a body's objects and arrays may nest.
	MaxDepth = 32
	// MaxFieldErrors bounds the errors listed in one problem.
	MaxFieldErrors = 100
)

// ContentTypeMergePatch is the media type of a JSON merge patch (RFC 7396).
const ContentTypeMergePatch = "application/merge-patch+json"

// DecodeOption adjusts DecodeJSON and ReadBody.
type DecodeOption func(*decodeConfig)

type decodeConfig struct {
	contentTypes []string
	allowEmpty   bool
}

// WithContentTypes replaces the media types accepted in Content-Type
// (application/json by default). A request without Content-Type is
// tolerated whatever the list.
func WithContentTypes(types ...string) DecodeOption {
	return func(c *decodeConfig) {
		c.contentTypes = nil
		for _, t := range types {
			c.contentTypes = append(c.contentTypes, strings.ToLower(strings.TrimSpace(t)))
		}
	}
}

// AllowMergePatch accepts application/merge-patch+json besides
// application/json (PATCH /claims/{id}).
func AllowMergePatch() DecodeOption {
	return WithContentTypes(ContentTypeJSON, ContentTypeMergePatch)
}

// AllowEmptyBody lets an empty body through: DecodeJSON then returns a nil
// body and leaves dst as it was. Without it an empty body is 400.
func AllowEmptyBody() DecodeOption { return func(c *decodeConfig) { c.allowEmpty = true } }

func newConfig(opts []DecodeOption) decodeConfig {
	c := decodeConfig{contentTypes: []string{ContentTypeJSON}}
	for _, o := range opts {
		o(&c)
	}
	if len(c.contentTypes) == 0 {
		c.contentTypes = []string{ContentTypeJSON}
	}
	return c
}

// DecodeJSON reads the request's JSON body strictly into dst (a non-nil
// pointer) and returns the body's bytes (for hashing, e.g. an
// Idempotency-Key's request hash). Every failure is a *Problem:
// 415 unsupported_media_type for a Content-Type not accepted (none is
// tolerated), 413 payload_too_large past MaxBodyBytes, and 400
// invalid_input for bad base64, invalid UTF-8, an empty body (unless
// AllowEmptyBody), JSON nested deeper than MaxDepth, malformed JSON, more
// than one JSON value, and, listed all at once by dotted path, duplicate,
// unknown and wrongly typed fields. Field names match exactly (encoding/json
// alone would fold case). A dst that is not a non-nil pointer is a
// programming error, returned as a plain error (500 at the edge).
func DecodeJSON(req events.APIGatewayV2HTTPRequest, dst any, opts ...DecodeOption) ([]byte, error) {
	if err := checkDst(dst); err != nil {
		return nil, err
	}
	doc, err := readBody(req, newConfig(opts))
	if err != nil || doc == nil {
		return nil, err
	}
	return doc.body, doc.decode(dst)
}

// ReadBody runs every check of DecodeJSON that needs no destination and
// returns the body: one well-formed JSON value without duplicate keys. With
// AllowEmptyBody an empty body gives nil, nil.
func ReadBody(req events.APIGatewayV2HTTPRequest, opts ...DecodeOption) ([]byte, error) {
	doc, err := readBody(req, newConfig(opts))
	if err != nil || doc == nil {
		return nil, err
	}
	if len(doc.errs.list) > 0 {
		return nil, doc.errs.problem()
	}
	return doc.body, nil
}

// ReadJSONBody is ReadBody accepting the given media types (application/json
// when none are given).
func ReadJSONBody(req events.APIGatewayV2HTTPRequest, allowed ...string) ([]byte, error) {
	return ReadBody(req, WithContentTypes(allowed...))
}

// EmptyOrJSONObject accepts, for actions that take no input, a missing body
// or an empty JSON object; any member is reported as an unknown field.
func EmptyOrJSONObject(req events.APIGatewayV2HTTPRequest) error {
	_, err := DecodeJSON(req, &struct{}{}, AllowEmptyBody())
	return err
}

// DecodeStrict decodes data (already read, e.g. a merged patch) into dst
// with the checks of DecodeJSON that concern the JSON itself.
func DecodeStrict(data []byte, dst any) error {
	if err := checkDst(dst); err != nil {
		return err
	}
	if !utf8.Valid(data) {
		return bodyError("The body is not valid UTF-8.", "must be valid UTF-8")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return bodyError("A JSON body is required.", "is required")
	}
	doc, err := parseJSON(data)
	if err != nil {
		return err
	}
	return doc.decode(dst)
}

func checkDst(dst any) error {
	if rv := reflect.ValueOf(dst); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("httpapi: decode needs a non-nil pointer, not %T", dst)
	}
	return nil
}

// bodyError is a 400 about the body as a whole (field "").
func bodyError(detail, message string) *Problem {
	return BadRequest(detail, FieldError{Field: "", Message: message})
}

// readBody checks the media type, undoes base64 and checks size, encoding
// and syntax. It returns nil, nil for an empty body the config allows.
func readBody(req events.APIGatewayV2HTTPRequest, cfg decodeConfig) (*document, error) {
	if err := checkContentType(Header(req, "Content-Type"), cfg.contentTypes); err != nil {
		return nil, err
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		if len(req.Body) > base64.StdEncoding.EncodedLen(MaxBodyBytes) {
			return nil, PayloadTooLarge()
		}
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, bodyError("The body is not valid base64.", "must be valid base64")
		}
		body = b
	}
	if len(body) > MaxBodyBytes {
		return nil, PayloadTooLarge()
	}
	if !utf8.Valid(body) {
		return nil, bodyError("The body is not valid UTF-8.", "must be valid UTF-8")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if cfg.allowEmpty {
			return nil, nil
		}
		return nil, bodyError("A JSON body is required.", "is required")
	}
	return parseJSON(body)
}

func checkContentType(ct string, allowed []string) error {
	if strings.TrimSpace(ct) == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	ok := err == nil && slices.Contains(allowed, mt)
	if cs, has := params["charset"]; ok && has && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		ok = false
	}
	if !ok {
		return UnsupportedMediaType("Send the body as " + strings.Join(allowed, " or ") + " (UTF-8).")
	}
	return nil
}

// document is a body parsed into a tree of map[string]any, []any, string,
// json.Number, bool and nil, with its duplicate keys noted.
type document struct {
	body []byte
	tree any
	errs errList
}

// parseJSON checks depth, syntax and that data holds exactly one value,
// and builds the tree.
func parseJSON(data []byte) (*document, error) {
	if !depthWithin(data, MaxDepth) {
		return nil, bodyError(fmt.Sprintf("The JSON nests deeper than %d levels.", MaxDepth),
			fmt.Sprintf("must not nest deeper than %d levels", MaxDepth))
	}
	doc := &document{body: data}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tree, err := doc.value(dec, "")
	if err != nil {
		return nil, syntaxProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, bodyError("The body holds more than one JSON value.", "must be exactly one JSON value")
	}
	doc.tree = tree
	return doc, nil
}

func syntaxProblem(err error) *Problem {
	msg := "is not well-formed JSON"
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		msg = fmt.Sprintf("is not well-formed JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		msg = "is not well-formed JSON: it ends early"
	}
	return bodyError("The body is not well-formed JSON.", msg)
}

// depthWithin scans raw JSON for brackets outside strings; a cheap guard
// before any recursive work.
func depthWithin(b []byte, max int) bool {
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > max {
				return false
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return true
}

// value reads one JSON value from the token stream, noting duplicate keys
// (a reader may keep either; the API refuses to guess).
func (d *document) value(dec *json.Decoder, path string) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // string, json.Number, bool or nil
	}
	switch delim {
	case '{':
		obj := map[string]any{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, ok := kt.(string)
			if !ok {
				return nil, fmt.Errorf("object key is %T", kt)
			}
			v, err := d.value(dec, joinKey(path, key))
			if err != nil {
				return nil, err
			}
			if _, dup := obj[key]; dup {
				d.errs.add(joinKey(path, key), "is given more than once")
			}
			obj[key] = v
		}
		if _, err := dec.Token(); err != nil { // '}'
			return nil, err
		}
		return obj, nil
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := d.value(dec, joinIndex(path, len(arr)))
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, err
		}
		return arr, nil
	}
	return nil, fmt.Errorf("unexpected %v", delim)
}

// decode fits the tree to dst's type, reporting every misfit at once, then
// decodes for real. The real decoder's own errors are a safety net for
// what the walk cannot foresee.
func (d *document) decode(dst any) error {
	errs := errList{list: slices.Clone(d.errs.list), truncated: d.errs.truncated}
	errs.fit("", d.tree, reflect.TypeOf(dst).Elem())
	if len(errs.list) > 0 {
		return errs.problem()
	}
	body := d.body
	if errs.rewritten {
		b, err := json.Marshal(d.tree) // json.Number keeps its literal text
		if err != nil {
			return fmt.Errorf("httpapi: re-encode body: %w", err)
		}
		body = b
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return BadRequest("The body does not fit the expected fields and types.", decodeFieldError(err, reflect.TypeOf(dst).Elem()))
	}
	return nil
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func joinIndex(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// errList collects field errors up to MaxFieldErrors.
type errList struct {
	list      []FieldError
	truncated bool
	// rewritten: an integral number in a non-integer form (287.0, 2.87e2)
	// was put in its integer form in the tree (see integral).
	rewritten bool
}

func (e *errList) add(field, message string) {
	if len(e.list) >= MaxFieldErrors {
		e.truncated = true
		return
	}
	e.list = append(e.list, FieldError{Field: field, Message: message})
}

func (e *errList) problem() *Problem {
	detail := "The body does not fit the expected fields and types."
	if e.truncated {
		detail += fmt.Sprintf(" Only the first %d problems are listed.", MaxFieldErrors)
	}
	return BadRequest(detail, e.list...)
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonNumberType      = reflect.TypeFor[json.Number]()
	timeType            = reflect.TypeFor[time.Time]()
)

func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || (t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(iface))
}

// fit walks a decoded JSON value against the Go type encoding/json would
// decode it into, noting unknown fields and wrong types by path. null fits
// anything (encoding/json leaves the target as it was).
func (e *errList) fit(path string, v any, t reflect.Type) {
	if v == nil || e.truncated {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case implements(t, jsonUnmarshalerType):
		b, err := json.Marshal(v) // numbers keep their literal text
		if err == nil {
			err = json.Unmarshal(b, reflect.New(t).Interface())
		}
		if err != nil {
			if t == timeType {
				e.add(path, "must be an RFC 3339 date-time")
			} else {
				e.add(path, "is not valid")
			}
		}
		return
	case implements(t, textUnmarshalerType):
		s, ok := v.(string)
		if !ok {
			e.add(path, "must be a string")
		} else if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			e.add(path, "is not valid")
		}
		return
	case t == jsonNumberType:
		switch x := v.(type) {
		case json.Number:
		case string:
			if _, err := strconv.ParseFloat(x, 64); err != nil || x == "" {
				e.add(path, "must be a number")
			}
		default:
			e.add(path, "must be a number")
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			e.add(path, "must be an object")
			return
		}
		fields := structFields(t)
		for _, k := range sortedKeys(obj) {
			f, ok := fields[k]
			switch {
			case !ok:
				e.add(joinKey(path, k), "unknown field")
			case f.quoted:
				// `json:",string"`: left to encoding/json.
			default:
				obj[k] = e.integral(obj[k], f.typ)
				e.fit(joinKey(path, k), obj[k], f.typ)
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			e.add(path, "must be an object")
			return
		}
		for _, k := range sortedKeys(obj) {
			if !validMapKey(k, t.Key()) {
				e.add(joinKey(path, k), "is not a valid key")
				continue
			}
			obj[k] = e.integral(obj[k], t.Elem())
			e.fit(joinKey(path, k), obj[k], t.Elem())
		}
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			s, ok := v.(string)
			if _, err := base64.StdEncoding.DecodeString(s); !ok || err != nil {
				e.add(path, "must be a base64 string")
			}
			return
		}
		arr, ok := v.([]any)
		if !ok {
			e.add(path, "must be an array")
			return
		}
		for i := range arr {
			arr[i] = e.integral(arr[i], t.Elem())
			e.fit(joinIndex(path, i), arr[i], t.Elem())
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			e.add(path, "must be a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			e.add(path, "must be a boolean")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.number(path, v, "must be an integer", func(s string) error {
			_, err := strconv.ParseInt(s, 10, t.Bits())
			return err
		})
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.number(path, v, "must be a non-negative integer", func(s string) error {
			_, err := strconv.ParseUint(s, 10, t.Bits())
			return err
		})
	case reflect.Float32, reflect.Float64:
		e.number(path, v, "must be a number", func(s string) error {
			_, err := strconv.ParseFloat(s, t.Bits())
			return err
		})
	case reflect.Interface:
		if t.NumMethod() != 0 {
			e.add(path, "has a type this API cannot read")
		}
	default:
		e.add(path, "has a type this API cannot read")
	}
}

// integral returns v, or, when v is a number in a non-integer form whose
// value is an integer (287.0, 2.87e2) and t an integer type, that integer
// in its plain form: JSON (and JSON Schema's "integer", which the OpenAPI
// document uses) makes no difference between them, encoding/json does.
func (e *errList) integral(v any, t reflect.Type) any {
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
	default:
		return v
	}
	if implements(t, jsonUnmarshalerType) || implements(t, textUnmarshalerType) || !strings.ContainsAny(n.String(), ".eE") {
		return v
	}
	// Bounded before big.Rat sees it: 1e999999999 must not be computed.
	if f, err := strconv.ParseFloat(n.String(), 64); err != nil || len(n.String()) > 64 || math.Abs(f) > 1<<64 {
		return v // not an integer of any Go type: fit says so
	}
	r, ok := new(big.Rat).SetString(n.String())
	if !ok || !r.IsInt() {
		return v
	}
	e.rewritten = true
	return json.Number(r.Num().String())
}

func (e *errList) number(path string, v any, wrong string, parse func(string) error) {
	n, ok := v.(json.Number)
	if !ok {
		e.add(path, wrong)
		return
	}
	if err := parse(n.String()); err != nil {
		if errors.Is(err, strconv.ErrRange) {
			e.add(path, "is out of range")
		} else {
			e.add(path, wrong)
		}
	}
}

func validMapKey(k string, t reflect.Type) bool {
	if t.Kind() == reflect.String || implements(t, textUnmarshalerType) {
		return true
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		_, err := strconv.ParseInt(k, 10, t.Bits())
		return err == nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		_, err := strconv.ParseUint(k, 10, t.Bits())
		return err == nil
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

type fieldInfo struct {
	typ    reflect.Type
	name   string // Go name
	quoted bool   // the ",string" option
}

var fieldCache sync.Map // reflect.Type -> map[string]fieldInfo

// structFields maps a struct's JSON member names to its fields as
// encoding/json sees them: tags honoured, "-" skipped, untagged embedded
// structs flattened (a shallower name wins).
func structFields(t reflect.Type) map[string]fieldInfo {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]fieldInfo)
	}
	out := map[string]fieldInfo{}
	level := []reflect.Type{t}
	seen := map[reflect.Type]bool{}
	for len(level) > 0 {
		var next []reflect.Type
		found := map[string]fieldInfo{}
		for _, st := range level {
			if seen[st] {
				continue
			}
			seen[st] = true
			for i := range st.NumField() {
				f := st.Field(i)
				tag := f.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if f.Anonymous && name == "" {
					ft := f.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if ft.Kind() == reflect.Struct {
						next = append(next, ft)
						continue
					}
				}
				if !f.IsExported() {
					continue
				}
				if name == "" {
					name = f.Name
				}
				if _, taken := out[name]; taken {
					continue
				}
				if _, taken := found[name]; !taken {
					found[name] = fieldInfo{typ: f.Type, name: f.Name, quoted: slices.Contains(strings.Split(opts, ","), "string")}
				}
			}
		}
		for k, v := range found {
			out[k] = v
		}
		level = next
	}
	fieldCache.Store(t, out)
	return out
}

// decodeFieldError turns an error of encoding/json into a field error. For
// type errors Go 1.26 reports Field as JSON names joined by dots without
// array indexes ("products.id"); with GOEXPERIMENT=jsonv2 indexes and map
// keys appear as segments ("products.0.id"); older releases used Go names.
// jsonPath maps all of these onto the API's path form. An unknown field's
// error names no path: the pre-pass normally catches it first.
func decodeFieldError(err error, t reflect.Type) FieldError {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return FieldError{Field: jsonPath(ute.Field, t), Message: typeMessage(ute.Type)}
	}
	const unknown = "json: unknown field "
	if msg := err.Error(); strings.HasPrefix(msg, unknown) {
		name, uerr := strconv.Unquote(strings.TrimPrefix(msg, unknown))
		if uerr != nil {
			name = strings.TrimPrefix(msg, unknown)
		}
		return FieldError{Field: name, Message: "unknown field"}
	}
	return FieldError{Field: "", Message: "is not valid"}
}

// jsonPath converts a dotted Go field path to the API's form: numeric
// segments become [i], Go field names become their JSON names.
func jsonPath(goPath string, t reflect.Type) string {
	if goPath == "" {
		return ""
	}
	var b strings.Builder
	cur := t
	for _, seg := range strings.Split(goPath, ".") {
		for cur != nil && cur.Kind() == reflect.Pointer {
			cur = cur.Elem()
		}
		if isIndex(seg) && (cur == nil || cur.Kind() == reflect.Slice || cur.Kind() == reflect.Array) {
			b.WriteString("[" + seg + "]")
			if cur != nil {
				cur = cur.Elem()
			}
			continue
		}
		// Go 1.26's default encoding/json drops indexes: step into the element.
		for cur != nil && (cur.Kind() == reflect.Slice || cur.Kind() == reflect.Array || cur.Kind() == reflect.Pointer) {
			cur = cur.Elem()
		}
		name := seg
		var next reflect.Type
		switch {
		case cur != nil && cur.Kind() == reflect.Struct:
			fields := structFields(cur)
			if f, ok := fields[seg]; ok {
				next = f.typ
			} else {
				for jn, f := range fields {
					if strings.EqualFold(f.name, seg) {
						name, next = jn, f.typ
						break
					}
				}
			}
		case cur != nil && cur.Kind() == reflect.Map:
			next = cur.Elem()
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(name)
		cur = next
	}
	return b.String()
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func typeMessage(t reflect.Type) string {
	if t == nil {
		return "has the wrong type"
	}
	if t == timeType {
		return "must be an RFC 3339 date-time"
	}
	switch t.Kind() {
	case reflect.String:
		return "must be a string"
	case reflect.Bool:
		return "must be a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "must be an integer in range"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "must be a non-negative integer in range"
	case reflect.Float32, reflect.Float64:
		return "must be a number in range"
	case reflect.Struct, reflect.Map:
		return "must be an object"
	case reflect.Slice, reflect.Array:
		return "must be an array"
	}
	return "has the wrong type"
}
