package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// HandlerFunc serves one route. A returned error is answered by the router
// (ErrorResponse); the response beside it is ignored.
type HandlerFunc func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Router dispatches a function's requests by route key, in API Gateway's
// form "POST /claims/{id}/submit". It is only as general as template.yaml
// needs: every route there is one method and one path, API Gateway names
// the route that matched (routeKey) and fills the path parameters, so no
// path is matched here. Register routes before serving; Serve is then safe
// for concurrent use.
type Router struct {
	// Logger receives one line per failed request (5xx at error level,
	// 4xx at info), with route, method, status and code: never a body,
	// header or claim. Nil means slog.Default().
	Logger *slog.Logger

	routes map[string]HandlerFunc
}

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{routes: map[string]HandlerFunc{}} }

// Handle registers h for routeKey ("METHOD /path/{param}"). A malformed or
// repeated key panics, as http.ServeMux does.
func (r *Router) Handle(routeKey string, h HandlerFunc) {
	if h == nil {
		panic("httpapi: nil handler for " + routeKey)
	}
	if _, dup := r.routes[routeKey]; dup {
		panic("httpapi: route registered twice: " + routeKey)
	}
	method, path, ok := strings.Cut(routeKey, " ")
	if !ok || method == "" || !strings.HasPrefix(path, "/") {
		panic(fmt.Sprintf("httpapi: route key %q is not \"METHOD /path\"", routeKey))
	}
	if r.routes == nil {
		r.routes = map[string]HandlerFunc{}
	}
	r.routes[routeKey] = h
}

// Serve is the Lambda handler. It picks the route by the event's route key;
// a key it does not serve is 404 not_found. Errors and panics become
// problem+json responses: Serve never returns an error, so Lambda never
// retries or reports a client's mistake. Every response gets
// Cache-Control: no-store (unless the handler set its own) and
// X-Content-Type-Options: nosniff.
func (r *Router) Serve(ctx context.Context, req events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, _ error) {
	key := req.RouteKey
	if key == "" {
		key = req.RequestContext.RouteKey
	}
	var err error
	if h := r.routes[key]; h == nil {
		err = NotFound("No such route.")
	} else {
		resp, err = r.call(ctx, h, req)
	}
	if err != nil {
		resp = ErrorResponse(err)
		r.log(ctx, key, req, resp.StatusCode, err)
	}
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	if !hasHeader(resp.Headers, "Cache-Control") {
		resp.Headers["Cache-Control"] = "no-store"
	}
	setHeader(resp.Headers, "X-Content-Type-Options", "nosniff")
	return resp, nil
}

// call runs h, turning a panic into an error.
func (r *Router) call(ctx context.Context, h HandlerFunc, req events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("httpapi: handler panicked: %v\n%s", v, debug.Stack())
		}
	}()
	return h(ctx, req)
}

func (r *Router) log(ctx context.Context, key string, req events.APIGatewayV2HTTPRequest, status int, err error) {
	logger := r.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if key == "" {
		key = "(none)"
	}
	attrs := []any{"route", key, "method", req.RequestContext.HTTP.Method, "status", status, "code", ProblemFrom(err).Code}
	if status >= 500 {
		logger.ErrorContext(ctx, "request failed", append(attrs, "error", err.Error())...)
		return
	}
	logger.InfoContext(ctx, "request refused", attrs...)
}
