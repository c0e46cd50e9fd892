package runner

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/cpor-claims/claims/local/samtemplate"
)

// CORS is the HttpApi's CorsConfiguration from template.yaml, resolved
// (AllowOrigins: [!Ref UiOrigin] becomes the origin the runner was given).
// The runner plays it as API Gateway HTTP APIs do: a preflight (OPTIONS
// with Origin and Access-Control-Request-Method) is answered by the
// gateway itself, before any route or authorizer, with 204; every other
// response of the API (the functions' and the gateway's own 401/404/...)
// carries Access-Control-Allow-Origin and the exposed headers; CORS
// headers a function returns are dropped (the gateway's configuration
// wins). A request from an origin not allowed gets no CORS headers, so the
// browser refuses it.
type CORS struct {
	Origins     []string // "*" allows any
	Methods     []string
	Headers     []string
	Expose      []string
	MaxAge      int // seconds; <0: not sent
	Credentials bool
}

// LoadCORS reads the CorsConfiguration of the template's HttpApi (or of
// Globals.HttpApi) with refs resolving its values; nil when there is none.
func LoadCORS(t *samtemplate.Template, refs map[string]string) (*CORS, error) {
	var raw any
	for _, id := range t.OfType("AWS::Serverless::HttpApi") {
		if c, ok := t.Resources[id].Properties["CorsConfiguration"]; ok {
			raw = c
			break
		}
	}
	if raw == nil {
		g, _ := t.Globals["HttpApi"].(map[string]any)
		raw = g["CorsConfiguration"]
	}
	switch v := raw.(type) {
	case nil:
		return nil, nil
	case string: // CorsConfiguration: true allows every origin
		if v != "true" {
			return nil, nil
		}
		return &CORS{Origins: []string{"*"}, Methods: []string{"*"}, Headers: []string{"*"}, MaxAge: -1}, nil
	case map[string]any:
		c := &CORS{MaxAge: -1}
		var err error
		fields := []struct {
			name string
			dst  *[]string
		}{{"AllowOrigins", &c.Origins}, {"AllowMethods", &c.Methods}, {"AllowHeaders", &c.Headers}, {"ExposeHeaders", &c.Expose}}
		for _, f := range fields {
			if *f.dst, err = resolveList(t, v[f.name], refs); err != nil {
				return nil, fmt.Errorf("CorsConfiguration.%s: %w", f.name, err)
			}
		}
		if m, ok := v["MaxAge"]; ok {
			s, err := t.ResolveIn(m, refs)
			if err != nil {
				return nil, fmt.Errorf("CorsConfiguration.MaxAge: %w", err)
			}
			if c.MaxAge, err = strconv.Atoi(s); err != nil {
				return nil, fmt.Errorf("CorsConfiguration.MaxAge %q: %w", s, err)
			}
		}
		if b, ok := v["AllowCredentials"]; ok {
			s, err := t.ResolveIn(b, refs)
			if err != nil {
				return nil, fmt.Errorf("CorsConfiguration.AllowCredentials: %w", err)
			}
			c.Credentials = s == "true"
		}
		return c, nil
	default:
		return nil, fmt.Errorf("CorsConfiguration: unsupported form %T", raw)
	}
}

func resolveList(t *samtemplate.Template, v any, refs map[string]string) ([]string, error) {
	items, ok := v.([]any)
	if !ok && v != nil {
		items = []any{v}
	}
	var out []string
	for _, it := range items {
		s, err := t.ResolveIn(it, refs)
		if err == samtemplate.ErrNoValue {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// allowOrigin is the Access-Control-Allow-Origin for origin ("" when the
// origin is not allowed, or the request is not a CORS request).
func (c *CORS) allowOrigin(origin string) string {
	if c == nil || origin == "" {
		return ""
	}
	for _, o := range c.Origins {
		if o == "*" {
			if c.Credentials {
				return origin // a wildcard cannot carry credentials
			}
			return "*"
		}
		if strings.EqualFold(o, origin) {
			return origin
		}
	}
	return ""
}

// isPreflight reports whether req is a CORS preflight.
func isPreflight(req *http.Request) bool {
	return req.Method == http.MethodOptions && req.Header.Get("Origin") != "" && req.Header.Get("Access-Control-Request-Method") != ""
}

// preflight answers a preflight as the gateway does (204; the CORS
// headers only for an allowed origin).
func (c *CORS) preflight(w http.ResponseWriter, req *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	if allow := c.allowOrigin(req.Header.Get("Origin")); allow != "" {
		h.Set("Access-Control-Allow-Origin", allow)
		h.Set("Access-Control-Allow-Methods", echoOrList(c.Methods, req.Header.Get("Access-Control-Request-Method"), strings.ToUpper))
		if hs := echoOrList(c.Headers, req.Header.Get("Access-Control-Request-Headers"), strings.ToLower); hs != "" {
			h.Set("Access-Control-Allow-Headers", hs)
		}
		if c.MaxAge >= 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
		}
		if c.Credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// echoOrList is the configured list, or what was asked for when the list
// is "*".
func echoOrList(list []string, asked string, norm func(string) string) string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		if v == "*" {
			return asked
		}
		out = append(out, norm(v))
	}
	return strings.Join(out, ",")
}

// corsWriter sets the actual-response CORS headers just before the status
// line, after whatever the function or the gateway set, dropping any
// Access-Control-* header of the function's.
type corsWriter struct {
	http.ResponseWriter
	allow string
	cors  *CORS
	wrote bool
}

func (c *CORS) wrap(w http.ResponseWriter, req *http.Request) http.ResponseWriter {
	if c == nil || req.Header.Get("Origin") == "" {
		return w
	}
	return &corsWriter{ResponseWriter: w, allow: c.allowOrigin(req.Header.Get("Origin")), cors: c}
}

func (cw *corsWriter) WriteHeader(status int) {
	if !cw.wrote {
		cw.wrote = true
		h := cw.Header()
		for k := range h {
			if strings.HasPrefix(http.CanonicalHeaderKey(k), "Access-Control-") {
				delete(h, k)
			}
		}
		h.Add("Vary", "Origin")
		if cw.allow != "" {
			h.Set("Access-Control-Allow-Origin", cw.allow)
			if len(cw.cors.Expose) > 0 {
				exp := make([]string, len(cw.cors.Expose))
				for i, e := range cw.cors.Expose {
					exp[i] = strings.ToLower(e)
				}
				h.Set("Access-Control-Expose-Headers", strings.Join(exp, ","))
			}
			if cw.cors.Credentials {
				h.Set("Access-Control-Allow-Credentials", "true")
			}
		}
	}
	cw.ResponseWriter.WriteHeader(status)
}

func (cw *corsWriter) Write(b []byte) (int, error) {
	if !cw.wrote {
		cw.WriteHeader(http.StatusOK)
	}
	return cw.ResponseWriter.Write(b)
}
