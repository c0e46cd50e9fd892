package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"runtime/debug"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// HandlerFunc serves one route. A returned error is answered by the router
// (ErrorResponse); the response beside it is ignored.
type HandlerFunc func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// DefaultRoute is API Gateway's catch-all route key.
const DefaultRoute = "$default"

// Router dispatches a function's requests by route key, in API Gateway's
// form "POST /claims/{id}/submit". Register routes before serving; Serve is
// then safe for concurrent use.
type Router struct {
	// Logger receives one line per failed request (5xx at error level,
	// 4xx at info), with route, method, status and code: never a body,
	// header or claim. Nil means slog.Default().
	Logger *slog.Logger

	routes  map[string]HandlerFunc
	entries []route
}

type route struct {
	key     string
	method  string   // "ANY" matches every method
	pattern []string // path segments; "{name}" one segment, "{name+}" the rest
}

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{routes: map[string]HandlerFunc{}} }

// Handle registers h for routeKey ("METHOD /path/{param}", "ANY /path" or
// "$default"). A malformed or repeated key panics, as http.ServeMux does.
func (r *Router) Handle(routeKey string, h HandlerFunc) {
	if h == nil {
		panic("httpapi: nil handler for " + routeKey)
	}
	if _, dup := r.routes[routeKey]; dup {
		panic("httpapi: route registered twice: " + routeKey)
	}
	if r.routes == nil {
		r.routes = map[string]HandlerFunc{}
	}
	if routeKey != DefaultRoute {
		method, path, ok := strings.Cut(routeKey, " ")
		if !ok || method == "" || !strings.HasPrefix(path, "/") {
			panic(fmt.Sprintf("httpapi: route key %q is not \"METHOD /path\"", routeKey))
		}
		r.entries = append(r.entries, route{key: routeKey, method: method, pattern: splitPath(path)})
	}
	r.routes[routeKey] = h
}

// RouteKeys lists the registered route keys in registration order.
func (r *Router) RouteKeys() []string {
	keys := make([]string, 0, len(r.entries)+1)
	for _, e := range r.entries {
		keys = append(keys, e.key)
	}
	if _, ok := r.routes[DefaultRoute]; ok {
		keys = append(keys, DefaultRoute)
	}
	return keys
}

// Serve is the Lambda handler. It picks the route by req.RouteKey, or, when
// that is empty or "$default", by matching the method and raw path against
// the registered patterns (filling PathParameters); an unknown route is 404
// not_found. Errors and panics become problem+json responses: Serve never
// returns an error, so Lambda never retries or reports a client's mistake.
// Every response gets Cache-Control: no-store (unless the handler set its
// own) and X-Content-Type-Options: nosniff.
func (r *Router) Serve(ctx context.Context, req events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, _ error) {
	key, h, params := r.match(req)
	if params != nil {
		req.PathParameters = params
	}
	var err error
	if h == nil {
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

// match finds the route: by route key, else by method and path. It returns
// path parameters when it matched the path itself, or when the gateway's
// event lacks them.
func (r *Router) match(req events.APIGatewayV2HTTPRequest) (string, HandlerFunc, map[string]string) {
	key := req.RouteKey
	if key == "" {
		key = req.RequestContext.RouteKey
	}
	if key != "" && key != DefaultRoute {
		h, ok := r.routes[key]
		if !ok {
			return key, nil, nil
		}
		if len(req.PathParameters) == 0 {
			for _, e := range r.entries {
				if e.key == key {
					if p, ok := e.params(rawPath(req)); ok && len(p) > 0 {
						return key, h, p
					}
				}
			}
		}
		return key, h, nil
	}
	segs := splitPath(rawPath(req))
	method := req.RequestContext.HTTP.Method
	var best *route
	var bestParams map[string]string
	for i := range r.entries {
		e := &r.entries[i]
		if e.method != method && e.method != "ANY" {
			continue
		}
		p, ok := e.paramsOf(segs)
		if ok && (best == nil || e.moreSpecific(best)) {
			best, bestParams = e, p
		}
	}
	if best != nil {
		return best.key, r.routes[best.key], bestParams
	}
	if h, ok := r.routes[DefaultRoute]; ok {
		return DefaultRoute, h, nil
	}
	return "", nil, nil
}

func rawPath(req events.APIGatewayV2HTTPRequest) string {
	if req.RawPath != "" {
		return req.RawPath
	}
	return req.RequestContext.HTTP.Path
}

// splitPath splits "/a/b" into ["a","b"]; "/" gives [""]. A trailing slash
// leaves an empty last segment, which no literal or parameter matches.
func splitPath(p string) []string { return strings.Split(strings.TrimPrefix(p, "/"), "/") }

func (e *route) params(path string) (map[string]string, bool) { return e.paramsOf(splitPath(path)) }

// paramsOf matches raw (percent-encoded) segments, decoding parameters.
func (e *route) paramsOf(segs []string) (map[string]string, bool) {
	params := map[string]string{}
	for i, pat := range e.pattern {
		if name, ok := strings.CutPrefix(pat, "{"); ok && strings.HasSuffix(name, "}") {
			name = strings.TrimSuffix(name, "}")
			if greedy, ok := strings.CutSuffix(name, "+"); ok && i == len(e.pattern)-1 {
				rest := strings.Join(segs[min(i, len(segs)):], "/")
				v, err := url.PathUnescape(rest)
				if rest == "" || err != nil {
					return nil, false
				}
				params[greedy] = v
				return params, true
			}
			if i >= len(segs) || segs[i] == "" {
				return nil, false
			}
			v, err := url.PathUnescape(segs[i])
			if err != nil {
				return nil, false
			}
			params[name] = v
			continue
		}
		if i >= len(segs) || segs[i] != pat {
			return nil, false
		}
	}
	if len(segs) != len(e.pattern) {
		return nil, false
	}
	return params, true
}

// moreSpecific prefers, segment by segment, a literal over a parameter
// over a greedy parameter, then a method over ANY, as API Gateway does.
func (e *route) moreSpecific(o *route) bool {
	for i := 0; i < len(e.pattern) && i < len(o.pattern); i++ {
		if a, b := segRank(e.pattern[i]), segRank(o.pattern[i]); a != b {
			return a < b
		}
	}
	if len(e.pattern) != len(o.pattern) {
		return len(e.pattern) > len(o.pattern)
	}
	return e.method != "ANY" && o.method == "ANY"
}

func segRank(s string) int {
	switch {
	case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "+}"):
		return 2
	case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
		return 1
	}
	return 0
}
