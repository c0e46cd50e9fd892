package imports

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxRows is the most data rows a file may hold (the header not counted).
const MaxRows = 1000

// FirstRow is the first data row's number: rows count as a spreadsheet
// shows them, the header being row 1.
const FirstRow = 2

// Key is the object key of an import's file: built from the import's id
// only, never from the file name.
func Key(importID string) string { return "imports/" + importID }

// IDFromKey is the import id of an object key under imports/, or "".
func IDFromKey(key string) string {
	id, ok := strings.CutPrefix(key, "imports/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return ""
	}
	return id
}

// Refusal is why a file is refused as a whole (the import's failure).
type Refusal struct{ Reason string }

func (r *Refusal) Error() string { return r.Reason }

func refuse(format string, args ...any) error {
	return &Refusal{Reason: fmt.Sprintf(format, args...)}
}

// Record is one data row as read: its number (the header is row 1) and
// its cells; Cells is nil when the row has another number of cells
// (CellCount) than the header.
type Record struct {
	Row       int
	Cells     []string
	CellCount int
}

// Reader reads a file's rows as a stream (encoding/csv on the body): the
// header first, checked against Columns, then one record at a time.
type Reader struct {
	csv *csv.Reader
	row int
	// next is the line the next record would start on without empty
	// lines between: encoding/csv skips empty lines, spreadsheets count
	// them as rows.
	next int
}

// advance counts the row of the record just read, empty lines before it
// included, and where the next one would start.
func (r *Reader) advance(cells []string) {
	line, _ := r.csv.FieldPos(0)
	if r.next > 0 && line > r.next {
		r.row += line - r.next
	}
	r.row++
	last, _ := r.csv.FieldPos(len(cells) - 1)
	r.next = last + strings.Count(cells[len(cells)-1], "\n") + 1
}

const bom = "\uFEFF"

// NewReader reads the header of r and checks it. A file that is empty,
// not CSV, not UTF-8 or with another header is a *Refusal.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(bom)); err == nil && string(b) == bom {
		_, _ = br.Discard(len(bom)) // a spreadsheet's byte order mark
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, refuse("the file is empty: the first row must be the template's header (GET /imports/template.csv)")
	}
	if err != nil {
		return nil, notCSV(err)
	}
	for _, h := range header {
		if !utf8.ValidString(h) {
			return nil, refuse("the file is not UTF-8 text: row 1 holds bytes that are not UTF-8 (save the file as CSV UTF-8)")
		}
	}
	want := columns
	if len(header) != len(want) {
		return nil, refuse("the header is not the template's (GET /imports/template.csv): it has %d columns, the template %d", len(header), len(want))
	}
	for i, h := range header {
		if strings.TrimSpace(h) != want[i] {
			return nil, refuse("the header is not the template's (GET /imports/template.csv): column %d is %q, expected %q", i+1, truncate(h, 60), want[i])
		}
	}
	rd := &Reader{csv: cr}
	rd.advance(header)
	return rd, nil
}

func notCSV(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return refuse("the file is not valid CSV: row %d: %v", pe.StartLine, pe.Err)
	}
	return err
}

// Next returns the next data row, or io.EOF. A row of invalid UTF-8 or
// broken quoting is a *Refusal (the whole file is refused). A row whose
// cells are all blank (a spreadsheet's trailing ",,,,") is skipped, as an
// empty line is, though it keeps its number.
func (r *Reader) Next() (Record, error) {
	for {
		cells, err := r.csv.Read()
		if errors.Is(err, io.EOF) {
			return Record{}, io.EOF
		}
		if err != nil {
			return Record{}, notCSV(err)
		}
		r.advance(cells)
		for _, c := range cells {
			if !utf8.ValidString(c) {
				return Record{}, refuse("the file is not UTF-8 text: row %d holds bytes that are not UTF-8 (save the file as CSV UTF-8)", r.row)
			}
		}
		if !slices.ContainsFunc(cells, func(c string) bool { return strings.TrimSpace(c) != "" }) {
			continue
		}
		rec := Record{Row: r.row, CellCount: len(cells)}
		if len(cells) == len(columns) {
			rec.Cells = cells
		}
		return rec, nil
	}
}

// Scan is what a first pass over the file learns, before anything is
// created: the number of data rows, and the rows that repeat an earlier
// row (row -> the first row with the same cells).
type Scan struct {
	Rows       int
	Duplicates map[int]int
}

// ScanFile reads the whole file once, as a stream, keeping only a hash
// per row: it refuses a file that is not UTF-8 CSV, has another header or
// more than MaxRows data rows (*Refusal), and finds repeated rows.
func ScanFile(r io.Reader) (*Scan, error) {
	rd, err := NewReader(r)
	if err != nil {
		return nil, err
	}
	s := &Scan{Duplicates: map[int]int{}}
	seen := map[[32]byte]int{}
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil {
			return nil, err
		}
		s.Rows++
		if s.Rows > MaxRows {
			return nil, refuse("the file has more than %d rows (the header not counted): split it into several imports", MaxRows)
		}
		if rec.Cells == nil {
			continue
		}
		h := rowHash(rec.Cells)
		if first, dup := seen[h]; dup {
			s.Duplicates[rec.Row] = first
			continue
		}
		seen[h] = rec.Row
	}
}

// rowHash identifies a row's content (cells trimmed, as the fields are).
func rowHash(cells []string) [32]byte {
	h := sha256.New()
	for _, c := range cells {
		h.Write([]byte(strings.TrimSpace(c)))
		h.Write([]byte{0})
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// ErrorsWriter writes the errors CSV (row,field,code,message) with
// encoding/csv; every cell is made safe for spreadsheets (SafeCell).
type ErrorsWriter struct{ w *csv.Writer }

// ErrorsHeader is the errors CSV's header.
var ErrorsHeader = []string{"row", "field", "code", "message"}

// NewErrorsWriter writes the header.
func NewErrorsWriter(w io.Writer) (*ErrorsWriter, error) {
	ew := &ErrorsWriter{w: csv.NewWriter(w)}
	return ew, ew.w.Write(ErrorsHeader)
}

// Write writes one line.
func (e *ErrorsWriter) Write(row int, field, code, message string) error {
	return e.w.Write([]string{fmt.Sprint(row), SafeCell(field), SafeCell(code), SafeCell(message)})
}

// Flush ends the CSV.
func (e *ErrorsWriter) Flush() error {
	e.w.Flush()
	return e.w.Error()
}

// SafeCell keeps a spreadsheet from reading a cell as a formula: a cell
// starting with =, +, -, @ (or a tab or carriage return, which some
// spreadsheets skip before one) is prefixed with a single quote.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
