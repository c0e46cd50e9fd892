package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// echo answers which route ran and with what path parameters.
func echo(name string) HandlerFunc {
	return func(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return JSON(200, map[string]any{"route": name, "params": req.PathParameters}), nil
	}
}

func failing(err error) HandlerFunc {
	return func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "ignored"}, err
	}
}

func newTestRouter(logs *bytes.Buffer) *Router {
	r := NewRouter()
	r.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	r.Handle("POST /claims", echo("create"))
	r.Handle("GET /claims/{id}", echo("get"))
	r.Handle("POST /claims/{id}/submit", echo("submit"))
	r.Handle("GET /boom", failing(errors.New("dynamodb: secret table name")))
	r.Handle("POST /locked", failing(fmt.Errorf("update: %w", ClaimLocked("Only a Draft can change."))))
	r.Handle("GET /panic", func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		panic("nil map")
	})
	r.Handle("GET /cached", func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"cache-control": "max-age=60"}}, nil
	})
	return r
}

func request(routeKey, method, path string, params map[string]string) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{RouteKey: routeKey, RawPath: path, PathParameters: params, Body: `{"secret":"body"}`}
	req.RequestContext.HTTP.Method = method
	req.RequestContext.HTTP.Path = path
	return req
}

func TestRouter(t *testing.T) {
	tests := []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
		route  string            // handler that ran
		params map[string]string // path parameters it saw
		code   string            // problem code when not 2xx
	}{
		{name: "by route key", req: request("POST /claims/{id}/submit", "POST", "/claims/c-1/submit", map[string]string{"id": "c-1"}),
			status: 200, route: "submit", params: map[string]string{"id": "c-1"}},
		{name: "route key wins over the path", req: request("GET /claims/{id}", "POST", "/whatever", map[string]string{"id": "x"}),
			status: 200, route: "get", params: map[string]string{"id": "x"}},
		{name: "route key of another function", req: request("GET /products", "GET", "/products", nil), status: 404, code: CodeNotFound},
		{name: "route key in the request context only", req: func() events.APIGatewayV2HTTPRequest {
			req := request("", "GET", "/claims/c-2", map[string]string{"id": "c-2"})
			req.RequestContext.RouteKey = "GET /claims/{id}"
			return req
		}(), status: 200, route: "get", params: map[string]string{"id": "c-2"}},
		{name: "no route key", req: request("", "POST", "/claims/c-3/submit", nil), status: 404, code: CodeNotFound},
		{name: "$default is no route here", req: request("$default", "GET", "/claims/a", nil), status: 404, code: CodeNotFound},
		{name: "no path at all", req: request("", "", "", nil), status: 404, code: CodeNotFound},
		{name: "problem error", req: request("POST /locked", "POST", "/locked", nil), status: 409, code: CodeClaimLocked},
		{name: "internal error", req: request("GET /boom", "GET", "/boom", nil), status: 500, code: CodeInternal},
		{name: "panic", req: request("GET /panic", "GET", "/panic", nil), status: 500, code: CodeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			resp, err := newTestRouter(&logs).Serve(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("Serve returned an error to Lambda: %v", err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if resp.Headers["Cache-Control"] != "no-store" || resp.Headers["X-Content-Type-Options"] != "nosniff" || resp.IsBase64Encoded {
				t.Fatalf("headers %v", resp.Headers)
			}
			if tt.code != "" {
				if resp.Headers["Content-Type"] != ContentTypeProblem {
					t.Fatalf("content type %q", resp.Headers["Content-Type"])
				}
				var p Problem
				if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
					t.Fatal(err)
				}
				wantProblem(t, &p, tt.status, tt.code)
				if strings.Contains(resp.Body, "secret") || strings.Contains(resp.Body, "nil map") {
					t.Fatalf("leak: %s", resp.Body)
				}
				return
			}
			var got struct {
				Route  string            `json:"route"`
				Params map[string]string `json:"params"`
			}
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
				t.Fatal(err)
			}
			if got.Route != tt.route || !reflect.DeepEqual(got.Params, tt.params) && !(len(got.Params) == 0 && len(tt.params) == 0) {
				t.Fatalf("ran %q with %v, want %q with %v", got.Route, got.Params, tt.route, tt.params)
			}
		})
	}
}

func TestRouterLogging(t *testing.T) {
	tests := []struct {
		req       events.APIGatewayV2HTTPRequest
		level     string
		code      string
		wantError bool
	}{
		{request("GET /boom", "GET", "/boom", nil), "ERROR", CodeInternal, true},
		{request("GET /panic", "GET", "/panic", nil), "ERROR", CodeInternal, true},
		{request("POST /locked", "POST", "/locked", nil), "INFO", CodeClaimLocked, false},
		{request("", "GET", "/nope", nil), "INFO", CodeNotFound, false},
	}
	for _, tt := range tests {
		var logs bytes.Buffer
		if _, err := newTestRouter(&logs).Serve(context.Background(), tt.req); err != nil {
			t.Fatal(err)
		}
		var line map[string]any
		if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
			t.Fatalf("one JSON log line expected, got %q", logs.String())
		}
		if line["level"] != tt.level || line["code"] != tt.code || line["route"] == nil || line["status"] == nil {
			t.Fatalf("log line %v", line)
		}
		if _, has := line["error"]; has != tt.wantError {
			t.Fatalf("error attribute present=%v: %v", has, line)
		}
		if strings.Contains(logs.String(), `"secret":"body"`) || strings.Contains(logs.String(), "body\"") {
			t.Fatalf("body logged: %s", logs.String())
		}
	}
	// Success logs nothing.
	var logs bytes.Buffer
	if _, err := newTestRouter(&logs).Serve(context.Background(), request("POST /claims", "POST", "/claims", nil)); err != nil || logs.Len() != 0 {
		t.Fatalf("success logged %q (%v)", logs.String(), err)
	}
}

func TestRouterHeaders(t *testing.T) {
	var logs bytes.Buffer
	resp, _ := newTestRouter(&logs).Serve(context.Background(), request("GET /cached", "GET", "/cached", nil))
	if resp.Headers["cache-control"] != "max-age=60" || resp.Headers["Cache-Control"] != "" || resp.Headers["X-Content-Type-Options"] != "nosniff" {
		t.Fatalf("headers %v", resp.Headers)
	}
}

func TestRouterHandlePanics(t *testing.T) {
	for _, key := range []string{"GET", "GET claims", " /claims", "GET /a", "$default"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handle(%q) did not panic", key)
				}
			}()
			r := NewRouter()
			r.Handle("GET /a", echo("a"))
			r.Handle(key, echo("x"))
		}()
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("nil handler accepted")
			}
		}()
		NewRouter().Handle("GET /b", nil)
	}()
	var zero Router // the zero Router works too
	zero.Handle("GET /z", echo("z"))
	if resp, _ := zero.Serve(context.Background(), request("GET /z", "GET", "/z", nil)); resp.StatusCode != 200 {
		t.Fatalf("zero router: %d", resp.StatusCode)
	}
}
