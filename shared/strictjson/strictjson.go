// Package strictjson reads a JSON document strictly into a request type
// and lists everything wrong with it at once, by dotted path
// (customer.tenantId, products[1].id): duplicate keys, unknown fields and
// values of the wrong type. encoding/json stops at the first error and
// folds the case of field names; an API that answers every bad field in
// one 400 cannot use it alone.
//
// It knows only the shapes the API's request bodies have: structs (fields
// named by their json tag, or by their Go name when untagged; "-" and
// unexported fields skipped), pointers to them, slices, strings and
// signed integers, named types of these included. Decode refuses any
// other destination type with a plain error, a programming mistake that
// the API's tests catch.
package strictjson

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Limits.
const (
	// MaxDepth bounds how deeply objects and arrays may nest.
	MaxDepth = 32
	// MaxErrors bounds the field errors listed.
	MaxErrors = 100
)

// FieldError is one field that does not fit, by dotted path ("" for the
// document itself).
type FieldError struct {
	Field   string
	Message string
}

// BodyError says the document as a whole cannot be read: too deep, not
// well-formed, or more than one value. Detail is a sentence, Message the
// field error of the whole body (field "").
type BodyError struct {
	Detail, Message string
}

func (e *BodyError) Error() string { return e.Message }

// FieldErrors lists what does not fit, in order: duplicate keys as the
// document has them, then the rest by sorted member names, depth first.
// Truncated: there were more than MaxErrors.
type FieldErrors struct {
	List      []FieldError
	Truncated bool
}

func (e *FieldErrors) Error() string {
	parts := make([]string, len(e.List))
	for i, f := range e.List {
		parts[i] = f.Field + ": " + f.Message
	}
	return strings.Join(parts, "; ")
}

func (e *FieldErrors) add(field, message string) {
	if len(e.List) >= MaxErrors {
		e.Truncated = true
		return
	}
	e.List = append(e.List, FieldError{Field: field, Message: message})
}

func (e *FieldErrors) err() error {
	if len(e.List) == 0 {
		return nil
	}
	return e
}

// Document is one JSON value parsed into map[string]any, []any, string,
// json.Number, bool and nil, with its duplicate keys noted.
type Document struct {
	// Tree is the value (the last of duplicate members).
	Tree any
	dups FieldErrors
}

// Parse checks that data is one well-formed JSON value nested at most
// MaxDepth deep (else a *BodyError) and builds its tree.
func Parse(data []byte) (*Document, error) {
	if !depthWithin(data, MaxDepth) {
		return nil, &BodyError{fmt.Sprintf("The JSON nests deeper than %d levels.", MaxDepth),
			fmt.Sprintf("must not nest deeper than %d levels", MaxDepth)}
	}
	doc := &Document{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tree, err := doc.value(dec, "")
	if err != nil {
		return nil, syntaxError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &BodyError{"The body holds more than one JSON value.", "must be exactly one JSON value"}
	}
	doc.Tree = tree
	return doc, nil
}

// Duplicates is a *FieldErrors naming every key given twice in one
// object, or nil.
func (d *Document) Duplicates() error { return d.dups.err() }

func syntaxError(err error) *BodyError {
	msg := "is not well-formed JSON"
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		msg = fmt.Sprintf("is not well-formed JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		msg = "is not well-formed JSON: it ends early"
	}
	return &BodyError{"The body is not well-formed JSON.", msg}
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
func (d *Document) value(dec *json.Decoder, path string) (any, error) {
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
				d.dups.add(joinKey(path, key), "is given more than once")
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

// Decode fits the document to dst (a non-nil pointer to a supported type)
// and, when everything fits, stores it there: dst gets the value decoded
// into a zero value of its type. What does not fit is a *FieldErrors, the
// duplicate keys first; a dst of another type is a plain error.
func (d *Document) Decode(dst any) error {
	if err := CheckDestination(dst); err != nil {
		return err
	}
	rv := reflect.ValueOf(dst)
	t := rv.Type().Elem()
	w := walker{errs: FieldErrors{List: slices.Clone(d.dups.List), Truncated: d.dups.Truncated}}
	out := reflect.New(t).Elem()
	w.fit("", d.Tree, out)
	if err := w.errs.err(); err != nil {
		return err
	}
	rv.Elem().Set(out)
	return nil
}

type walker struct{ errs FieldErrors }

// fit checks v against out's type and stores it in out. null leaves out
// at its zero value, as encoding/json does.
func (w *walker) fit(path string, v any, out reflect.Value) {
	if v == nil || w.errs.Truncated {
		return
	}
	switch out.Kind() {
	case reflect.Pointer:
		out.Set(reflect.New(out.Type().Elem()))
		w.fit(path, v, out.Elem())
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			w.errs.add(path, "must be an object")
			return
		}
		fields := fieldsOf(out.Type())
		for _, k := range sortedKeys(obj) {
			if i, ok := fields[k]; ok {
				w.fit(joinKey(path, k), obj[k], out.Field(i))
			} else {
				w.errs.add(joinKey(path, k), "unknown field")
			}
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			w.errs.add(path, "must be an array")
			return
		}
		s := reflect.MakeSlice(out.Type(), len(arr), len(arr))
		for i := range arr {
			w.fit(joinIndex(path, i), arr[i], s.Index(i))
		}
		out.Set(s)
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			w.errs.add(path, "must be a string")
			return
		}
		out.SetString(s)
	default: // a signed integer (Supported)
		n, ok := v.(json.Number)
		if !ok {
			w.errs.add(path, "must be an integer")
			return
		}
		i, err := strconv.ParseInt(integral(n.String()), 10, out.Type().Bits())
		switch {
		case errors.Is(err, strconv.ErrRange):
			w.errs.add(path, "is out of range")
		case err != nil:
			w.errs.add(path, "must be an integer")
		default:
			out.SetInt(i)
		}
	}
}

// integral returns a number written in a non-integer form whose value is
// an integer (287.0, 2.87e2) in its plain form ("287"): JSON (and JSON
// Schema's "integer", which the OpenAPI document uses) makes no difference
// between them. Anything else is returned as it is.
func integral(n string) string {
	if !strings.ContainsAny(n, ".eE") {
		return n
	}
	// Bounded before big.Rat sees it: 1e999999999 must not be computed.
	if f, err := strconv.ParseFloat(n, 64); err != nil || len(n) > 64 || math.Abs(f) > 1<<64 {
		return n
	}
	r, ok := new(big.Rat).SetString(n)
	if !ok || !r.IsInt() {
		return n
	}
	return r.Num().String()
}

// CheckDestination is nil when Decode can fill dst: a non-nil pointer to a
// type of the shapes this package knows.
func CheckDestination(dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("strictjson: decode needs a non-nil pointer, not %T", dst)
	}
	return supportedType(rv.Type().Elem())
}

// supportedType is nil when Decode can fill a value of type t.
func supportedType(t reflect.Type) error {
	if err, ok := supported.Load(t); ok {
		return err.(typeError).err
	}
	err := check(t, map[reflect.Type]bool{})
	supported.Store(t, typeError{err})
	return err
}

type typeError struct{ err error }

var (
	supported sync.Map // reflect.Type -> typeError
	fieldMaps sync.Map // reflect.Type -> map[string]int
)

func check(t reflect.Type, seen map[reflect.Type]bool) error {
	if seen[t] {
		return nil
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice:
		return check(t.Elem(), seen)
	case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return ownDecoding(t)
	case reflect.Struct:
		if err := ownDecoding(t); err != nil {
			return err
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				return fmt.Errorf("strictjson: %s embeds %s", t, f.Type)
			}
			if !f.IsExported() || f.Tag.Get("json") == "-" {
				continue
			}
			if _, opts, _ := strings.Cut(f.Tag.Get("json"), ","); slices.Contains(strings.Split(opts, ","), "string") {
				return fmt.Errorf("strictjson: %s.%s has the string option", t, f.Name)
			}
			if err := check(f.Type, seen); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("strictjson: cannot decode into %s", t)
}

// ownDecoding refuses a type that decodes itself: encoding/json would call
// its method, this package would not.
func ownDecoding(t reflect.Type) error {
	p := reflect.PointerTo(t)
	if p.Implements(reflect.TypeFor[json.Unmarshaler]()) || p.Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
		return fmt.Errorf("strictjson: %s decodes itself", t)
	}
	return nil
}

// fieldsOf maps a struct's JSON member names to its field indexes.
func fieldsOf(t reflect.Type) map[string]int {
	if m, ok := fieldMaps.Load(t); ok {
		return m.(map[string]int)
	}
	m := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		m[name] = i
	}
	fieldMaps.Store(t, m)
	return m
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func joinIndex(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }
