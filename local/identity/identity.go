// Package identity is the local stand-in of the Microsoft identity
// platform's OpenID discovery endpoint
// (https://login.microsoftonline.com/{domain}/v2.0/.well-known/openid-configuration),
// which shared/tenant asks which tenant a domain belongs to. It answers as
// the real one does: a known domain gets the discovery document, whose
// issuer names the tenant; an unknown one 400 with an AADSTS90002 error
// body. Its directory (domain -> tenant) is seeded with the README's sample
// tenants and changed through the runner's PUT /_local/directory/{domain}.
package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Samples are the README's sample tenants: the walk-through's (and
// events/' samples') customer Contoso, and Northwind, each with its
// onmicrosoft.com domain and the custom domains of its mailboxes.
var Samples = map[string]string{
	"contoso.onmicrosoft.com":   "72f988bf-86f1-41af-91ab-2d7cd011db47",
	"contoso.com":               "72f988bf-86f1-41af-91ab-2d7cd011db47",
	"contoso.example":           "72f988bf-86f1-41af-91ab-2d7cd011db47",
	"northwind.onmicrosoft.com": "5b3c9d4e-1f2a-4c6b-8d7e-9a0b1c2d3e4f",
	"northwindtraders.com":      "5b3c9d4e-1f2a-4c6b-8d7e-9a0b1c2d3e4f",
}

// Item is one entry of the directory.
type Item struct {
	Domain   string `json:"domain"`
	TenantID string `json:"tenantId"`
}

// Directory maps domains to tenants and serves the discovery endpoint.
type Directory struct {
	mu      sync.RWMutex
	tenants map[string]string
}

// New returns a directory seeded with Samples.
func New() *Directory {
	d := &Directory{tenants: map[string]string{}}
	for dom, tid := range Samples {
		d.tenants[dom] = tid
	}
	return d
}

var (
	guid   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	domain = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)
)

// ErrInvalid: a domain or tenant id that is not one.
var ErrInvalid = errors.New("invalid directory entry")

// Set says from now on that domain belongs to tenantID.
func (d *Directory) Set(dom, tenantID string) error {
	dom = strings.ToLower(strings.TrimSpace(dom))
	if !domain.MatchString(dom) || len(dom) > 253 {
		return fmt.Errorf("%w: %q is not a domain name", ErrInvalid, dom)
	}
	if !guid.MatchString(tenantID) {
		return fmt.Errorf("%w: tenantId %q is not a GUID", ErrInvalid, tenantID)
	}
	d.mu.Lock()
	d.tenants[dom] = strings.ToLower(tenantID)
	d.mu.Unlock()
	return nil
}

// Items lists the directory, sorted by domain.
func (d *Directory) Items() []Item {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]Item, 0, len(d.tenants))
	for dom, tid := range d.tenants {
		out = append(out, Item{Domain: dom, TenantID: tid})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Domain < out[j].Domain })
	return out
}

// TenantOf is the tenant of a domain ("" when unknown).
func (d *Directory) TenantOf(dom string) string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.tenants[strings.ToLower(dom)]
}

const discoverySuffix = "/v2.0/.well-known/openid-configuration"

// ServeHTTP answers GET /{domain}/v2.0/.well-known/openid-configuration as
// the identity platform does.
func (d *Directory) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	dom, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), discoverySuffix)
	if !ok || strings.Contains(dom, "/") || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	tid := d.TenantOf(dom)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=86400, private")
	if tid == "" {
		w.WriteHeader(http.StatusBadRequest)
		now := time.Now().UTC()
		trace, corr := uuid.NewString(), uuid.NewString()
		_ = json.NewEncoder(w).Encode(map[string]any{
			"error": "invalid_tenant",
			"error_description": fmt.Sprintf("AADSTS90002: Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
				dom, trace, corr, now.Format("2006-01-02 15:04:05Z")),
			"error_codes":    []int{90002},
			"timestamp":      now.Format("2006-01-02 15:04:05Z"),
			"trace_id":       trace,
			"correlation_id": corr,
			"error_uri":      "https://login.microsoftonline.com/error?code=90002",
		})
		return
	}
	base := "https://login.microsoftonline.com/" + tid
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/v2.0",
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     "https://graph.microsoft.com/oidc/userinfo",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"claims_supported":                      []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		"kerberos_endpoint":                     base + "/kerberos",
		"tenant_region_scope":                   "NA",
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          "graph.microsoft.com",
		"rbac_url":                              "https://pas.windows.net",
	})
}

// LocalPrefix is where the runner mounts ServeLocal.
const LocalPrefix = "/_local/directory"

// ServeLocal serves the runner's own directory endpoints:
// PUT /_local/directory/{domain} {"tenantId":"GUID"} -> 204, and
// GET /_local/directory -> {"items":[{"domain","tenantId"}]}.
func (d *Directory) ServeLocal(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, LocalPrefix)
	switch {
	case (rest == "" || rest == "/") && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"items": d.Items()})
	case strings.HasPrefix(rest, "/") && len(rest) > 1 && !strings.Contains(rest[1:], "/") && r.Method == http.MethodPut:
		var body struct {
			TenantID string `json:"tenantId"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "body must be {\"tenantId\":\"GUID\"}: " + err.Error()})
			return
		}
		if err := d.Set(rest[1:], body.TenantID); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case rest == "" || rest == "/" || !strings.Contains(rest[1:], "/"):
		w.Header().Set("Allow", "GET, PUT")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": "GET " + LocalPrefix + " or PUT " + LocalPrefix + "/{domain}"})
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
