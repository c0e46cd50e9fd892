// Package tenant checks that a customer's domain belongs to its Microsoft
// Entra tenant the way Microsoft publishes it: the domain's OpenID Connect
// configuration document on the identity platform names the tenant id in
// its issuer (https://login.microsoftonline.com/{tenant}/v2.0).
package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

var (
	// ErrUnknownDomain: the identity platform knows no tenant for the domain.
	ErrUnknownDomain = errors.New("no tenant for this domain")
	// ErrUnavailable: the lookup could not be done now; try again later.
	ErrUnavailable = errors.New("tenant lookup unavailable")
)

// Lookup asks the identity platform at BaseURL (configuration; tests run a
// local server there).
type Lookup struct {
	BaseURL string
	Client  *http.Client
}

// New returns a lookup with a bounded timeout.
func New(baseURL string) *Lookup {
	return &Lookup{BaseURL: strings.TrimRight(baseURL, "/"), Client: &http.Client{Timeout: 5 * time.Second}}
}

// TenantOf returns the tenant id (lowercase GUID) the domain belongs to.
func (l *Lookup) TenantOf(ctx context.Context, domain string) (string, error) {
	u := l.BaseURL + "/" + url.PathEscape(domain) + "/v2.0/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := l.Client.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusNotFound:
		// AADSTS90002 and friends: the domain names no tenant.
		return "", ErrUnknownDomain
	default:
		return "", fmt.Errorf("%w: status %d", ErrUnavailable, resp.StatusCode)
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Issuer == "" {
		return "", fmt.Errorf("%w: unreadable OpenID configuration", ErrUnavailable)
	}
	iss, err := url.Parse(doc.Issuer)
	if err != nil {
		return "", fmt.Errorf("%w: issuer %q", ErrUnavailable, doc.Issuer)
	}
	parts := strings.Split(strings.Trim(iss.Path, "/"), "/")
	if len(parts) == 0 || parts[0] == "" {
		return "", fmt.Errorf("%w: issuer %q names no tenant", ErrUnavailable, doc.Issuer)
	}
	return strings.ToLower(parts[0]), nil
}
