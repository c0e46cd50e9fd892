package runner

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
)

// Route is one HttpApi route of the template.
type Route struct {
	Method   string
	Path     string // "/claims/{id}/submit"
	Function string // logical id
	Auth     bool   // behind the JWT authorizer
	segments []string
}

// RouteKey is API Gateway's "METHOD /path".
func (r *Route) RouteKey() string { return r.Method + " " + r.Path }

// match reports whether path fits the route and returns its parameters.
func (r *Route) match(method, path string) (map[string]string, bool) {
	if method != r.Method {
		return nil, false
	}
	if r.segments == nil {
		r.segments = strings.Split(strings.Trim(r.Path, "/"), "/")
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) != len(r.segments) {
		return nil, false
	}
	params := map[string]string{}
	for i, s := range r.segments {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			if segs[i] == "" {
				return nil, false
			}
			params[s[1:len(s)-1]] = segs[i]
			continue
		}
		if s != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// findRoute picks the route for a request; pathKnown reports whether any
// route has that path (405-like cases answer 404 as API Gateway does).
func findRoute(routes []*Route, method, path string) (*Route, map[string]string) {
	for _, r := range routes {
		if p, ok := r.match(method, path); ok {
			return r, p
		}
	}
	return nil, nil
}

// textual content types travel as text; anything else is base64, as API
// Gateway does for binary bodies.
func textual(contentType string) bool {
	ct := strings.ToLower(contentType)
	return ct == "" || strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") ||
		strings.Contains(ct, "xml") || strings.HasPrefix(ct, "application/x-www-form-urlencoded") ||
		strings.Contains(ct, "javascript")
}

// toEvent turns an HTTP request into an API Gateway HTTP API payload 2.0
// event.
func toEvent(r *http.Request, body []byte, route *Route, params map[string]string, claims map[string]string, now time.Time) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lk] = strings.Join(vs, ",")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = make(map[string]string, len(q))
		for k, vs := range q {
			query[k] = strings.Join(vs, ",")
		}
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              route.RouteKey(),
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:   route.RouteKey(),
			AccountID:  "000000000000",
			Stage:      "$default",
			RequestID:  uuid.NewString(),
			APIID:      "local",
			DomainName: r.Host,
			Time:       now.Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:  now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP(r),
				UserAgent: r.UserAgent(),
			},
		},
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: nil},
		}
	}
	if len(body) > 0 {
		if textual(r.Header.Get("Content-Type")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

func sourceIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndex(host, ":"); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// writeResult writes a function's payload 2.0 result as the HTTP response.
// A result without statusCode is a 200 JSON body, as API Gateway does.
func writeResult(w http.ResponseWriter, result []byte) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(result, &probe); err != nil || probe["statusCode"] == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, err := w.Write(result)
		return err
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(result, &resp); err != nil {
		return fmt.Errorf("malformed function response: %w", err)
	}
	keys := make([]string, 0, len(resp.Headers))
	for k := range resp.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.Header().Set(k, resp.Headers[k])
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("malformed base64 body: %w", err)
		}
		body = b
	}
	if resp.StatusCode == 0 {
		resp.StatusCode = http.StatusOK
	}
	w.WriteHeader(resp.StatusCode)
	_, err := w.Write(body)
	return err
}
