package httpapi

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestWantsCSV(t *testing.T) {
	cases := map[string]bool{
		"":                                     false,
		"application/json":                     false,
		"*/*":                                  false,
		"text/csv":                             true,
		"text/csv; charset=utf-8":              true,
		"text/csv;q=0":                         false,
		"application/json, text/csv;q=0.5":     false,
		"text/csv, application/json;q=0.9":     true,
		"text/csv;q=0.8, */*;q=0.5":            true,
		"application/json;q=0.5, text/csv":     true,
		"text/html, text/csv;q=0.2, */*;q=0.1": true,
		"bogus/;;, text/csv":                   true,
	}
	for accept, want := range cases {
		req := events.APIGatewayV2HTTPRequest{Headers: map[string]string{"accept": accept}}
		if got := WantsCSV(req); got != want {
			t.Errorf("Accept %q: WantsCSV = %v, want %v", accept, got, want)
		}
	}
}

func TestSafeCell(t *testing.T) {
	cases := map[string]string{
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+1":                       "'+1",
		"-2+3":                     "'-2+3",
		"@SUM(A1)":                 "'@SUM(A1)",
		"\t=1":                     "'\t=1",
		"Contoso":                  "Contoso",
		"":                         "",
		"2026-12-02T10:00:00Z":     "2026-12-02T10:00:00Z",
		"a=b":                      "a=b",
	}
	for in, want := range cases {
		if got := SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCSVIsRFC4180WithANextLink(t *testing.T) {
	req := events.APIGatewayV2HTTPRequest{RawPath: "/claims", RawQueryString: "status=Approved&cursor=old&limit=2"}
	rows := [][]string{
		{"1", "Contoso, \"Ltd\"\nsecond line", "=cmd|' /C calc'!A0"},
		{"2", "Fabrikam ü", ""},
	}
	resp := CSV(req, []string{"id", "customer.name", "comments"}, rows, "NEXT")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Headers["Content-Type"], "text/csv") {
		t.Fatalf("status %d headers %v", resp.StatusCode, resp.Headers)
	}
	if got, want := resp.Headers["Link"], `</claims?cursor=NEXT&limit=2&status=Approved>; rel="next"`; got != want {
		t.Errorf("Link %q, want %q", got, want)
	}
	if !strings.HasPrefix(resp.Body, "id,customer.name,comments\r\n") {
		t.Errorf("header line: %q", resp.Body)
	}
	recs, err := csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"id", "customer.name", "comments"}, {"1", "Contoso, \"Ltd\"\nsecond line", "'=cmd|' /C calc'!A0"}, {"2", "Fabrikam ü", ""}}
	if len(recs) != len(want) {
		t.Fatalf("records %q", recs)
	}
	for i := range want {
		if strings.Join(recs[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("record %d = %q, want %q", i, recs[i], want[i])
		}
	}
	if last := CSV(req, []string{"id"}, nil, ""); last.Headers["Link"] != "" || last.Body != "id\r\n" {
		t.Errorf("last page: %v %q", last.Headers, last.Body)
	}
}

func TestParseCSVLimit(t *testing.T) {
	if n, err := ParseCSVLimit(""); n != MaxCSVRows || err != nil {
		t.Errorf("default %d %v", n, err)
	}
	if n, err := ParseCSVLimit("5000"); n != 5000 || err != nil {
		t.Errorf("5000: %d %v", n, err)
	}
	for _, s := range []string{"0", "5001", "x", "-1"} {
		if _, err := ParseCSVLimit(s); ProblemFrom(err).Status != 400 {
			t.Errorf("%q: %v", s, err)
		}
	}
}
