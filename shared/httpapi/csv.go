package httpapi

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// CSV export (API.md "After approval (v2)"): a listing asked for with
// Accept: text/csv answers RFC 4180 CSV, up to MaxCSVRows rows a page, the
// next page named by a Link header.
const (
	ContentTypeCSV = "text/csv; charset=utf-8; header=present"
	MaxCSVRows     = 5000
)

// WantsCSV reports whether the request's Accept header prefers text/csv to
// JSON: text/csv is listed with a non-zero quality at least that of
// application/json (or of */* when JSON is not named).
func WantsCSV(req events.APIGatewayV2HTTPRequest) bool {
	accept := Header(req, "Accept")
	if accept == "" {
		return false
	}
	csvQ, jsonQ, anyQ := -1.0, -1.0, -1.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(s, 64); err == nil && v >= 0 && v <= 1 {
				q = v
			}
		}
		switch mt {
		case "text/csv":
			csvQ = max(csvQ, q)
		case "application/json", "application/*":
			jsonQ = max(jsonQ, q)
		case "*/*":
			anyQ = max(anyQ, q)
		}
	}
	if csvQ <= 0 {
		return false
	}
	if jsonQ < 0 {
		jsonQ = anyQ
	}
	return csvQ >= jsonQ
}

// ParseCSVLimit reads the limit query parameter of a CSV export: MaxCSVRows
// when empty, else an integer from 1 to MaxCSVRows.
func ParseCSVLimit(s string) (int, error) {
	if s == "" {
		return MaxCSVRows, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxCSVRows {
		return 0, BadRequest("The limit is not a page size this API serves.",
			FieldError{Field: "limit", Message: fmt.Sprintf("must be an integer from 1 to %d", MaxCSVRows)})
	}
	return n, nil
}

// SafeCell neutralises a value a spreadsheet would run as a formula: one
// starting with =, +, - or @ (or a tab or carriage return, which some tools
// skip before reading the formula) is prefixed with a single quote, as
// spreadsheet tools expect (OWASP "CSV injection").
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// CSV answers 200 with header and rows written by encoding/csv (RFC 4180:
// CRLF line ends, quotes doubled), every cell through SafeCell. When next
// is not empty, a Link header names the next page: the request's own path
// and query with cursor replaced by next.
func CSV(req events.APIGatewayV2HTTPRequest, header []string, rows [][]string, next string) events.APIGatewayV2HTTPResponse {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	safe := make([]string, 0, len(header))
	write := func(rec []string) {
		safe = safe[:0]
		for _, c := range rec {
			safe = append(safe, SafeCell(c))
		}
		_ = w.Write(safe) // a bytes.Buffer does not fail; Flush reports the rest
	}
	write(header)
	for _, r := range rows {
		write(r)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return ErrorResponse(err)
	}
	h := map[string]string{"Content-Type": ContentTypeCSV, "Vary": "Accept"}
	if next != "" {
		h["Link"] = NextLink(req, next)
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: h, Body: buf.String()}
}

// NextLink is the Link header value for the next page: a reference to the
// request's path and query with cursor set to next (RFC 8288; relative, so
// it resolves against whatever host and stage the client called).
func NextLink(req events.APIGatewayV2HTTPRequest, next string) string {
	q, _ := url.ParseQuery(req.RawQueryString)
	if q == nil {
		q = url.Values{}
	}
	q.Set("cursor", next)
	return "<" + rawPath(req) + "?" + q.Encode() + `>; rel="next"`
}

// rawPath is the request's path as the client sent it.
func rawPath(req events.APIGatewayV2HTTPRequest) string {
	if req.RawPath != "" {
		return req.RawPath
	}
	return req.RequestContext.HTTP.Path
}
