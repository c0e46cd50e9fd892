package httpapi

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// jsonReq is a request with a JSON body and the given headers.
func jsonReq(body string, headers ...string) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{Body: body, Headers: map[string]string{}}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Headers[headers[i]] = headers[i+1]
	}
	return req
}

// wantProblem asserts err is a *Problem of status and code and returns it.
func wantProblem(t *testing.T, err error, status int, code string) *Problem {
	t.Helper()
	var p *Problem
	if !errors.As(err, &p) {
		t.Fatalf("error = %v (%T), want a *Problem %d %s", err, err, status, code)
	}
	if p.Status != status || p.Code != code {
		t.Fatalf("problem = %d %s (%s), want %d %s", p.Status, p.Code, p.Detail, status, code)
	}
	if p.Type != ProblemBase+code || p.Title == "" {
		t.Fatalf("problem type/title = %q/%q", p.Type, p.Title)
	}
	return p
}

// wantFields asserts a problem's errors, in order.
func wantFields(t *testing.T, p *Problem, want []FieldError) {
	t.Helper()
	if want == nil {
		return
	}
	if !reflect.DeepEqual(p.Errors, want) {
		got, _ := json.Marshal(p.Errors)
		exp, _ := json.Marshal(want)
		t.Fatalf("errors =\n  %s\nwant\n  %s", got, exp)
	}
}

func fe(field, message string) FieldError { return FieldError{Field: field, Message: message} }
