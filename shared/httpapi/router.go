package httpapi

import (
	"context"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// HandlerFunc serves one route.
type HandlerFunc func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Router dispatches on API Gateway's route key ("POST /claims/{id}/submit").
type Router struct {
	routes map[string]HandlerFunc
	keys   []string
}

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{routes: map[string]HandlerFunc{}} }

// Handle registers a route.
func (r *Router) Handle(routeKey string, h HandlerFunc) {
	r.routes[routeKey] = h
	r.keys = append(r.keys, routeKey)
}

// RouteKeys lists the registered routes.
func (r *Router) RouteKeys() []string { return append([]string(nil), r.keys...) }

// Serve is the Lambda handler: errors become problem+json answers (a 5xx
// is logged, without bodies or personal data), never Lambda errors.
func (r *Router) Serve(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	h, params := r.match(req)
	var resp events.APIGatewayV2HTTPResponse
	var err error
	if h == nil {
		err = NotFound("No such route.")
	} else {
		if params != nil {
			req.PathParameters = params
		}
		resp, err = h(ctx, req)
	}
	if err != nil {
		resp = ErrorResponse(err)
		if resp.StatusCode >= 500 {
			slog.ErrorContext(ctx, "request failed", "route", req.RouteKey, "error", err)
		}
	}
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	resp.Headers["Cache-Control"] = "no-store"
	resp.Headers["X-Content-Type-Options"] = "nosniff"
	return resp, nil
}

func (r *Router) match(req events.APIGatewayV2HTTPRequest) (HandlerFunc, map[string]string) {
	if h, ok := r.routes[req.RouteKey]; ok {
		return h, nil
	}
	method := req.RequestContext.HTTP.Method
	path := req.RawPath
	if path == "" {
		path = req.RequestContext.HTTP.Path
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, key := range r.keys {
		m, p, _ := strings.Cut(key, " ")
		if m != method {
			continue
		}
		pat := strings.Split(strings.Trim(p, "/"), "/")
		if len(pat) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for i, s := range pat {
			if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") && segs[i] != "" {
				params[s[1:len(s)-1]] = segs[i]
			} else if s != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return r.routes[key], params
		}
	}
	return nil, nil
}
