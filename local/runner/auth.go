package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultJWTSecret is LOCAL_JWT_SECRET's default (API.md).
const DefaultJWTSecret = "local-dev-secret"

// Authorizer plays API Gateway's JWT authorizer locally: HS256 with a shared
// secret, exp required, iss and aud checked only when configured.
type Authorizer struct {
	Secret   []byte
	Issuer   string
	Audience string
}

var errUnauthorized = errors.New("unauthorized")

// Authorize checks the Authorization header and returns the token's claims
// in the gateway's string form.
func (a *Authorizer) Authorize(header string) (map[string]string, error) {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		if raw, ok = strings.CutPrefix(header, "bearer "); !ok {
			return nil, errUnauthorized
		}
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired()}
	if a.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(a.Issuer))
	}
	if a.Audience != "" {
		opts = append(opts, jwt.WithAudience(a.Audience))
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(strings.TrimSpace(raw), claims, func(*jwt.Token) (any, error) { return a.Secret, nil }, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUnauthorized, err)
	}
	return GatewayClaims(claims), nil
}

// GatewayClaims renders claims as API Gateway hands them to a function:
// every value a string, a list as "[a b]", an object as JSON text.
func GatewayClaims(claims map[string]any) map[string]string {
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		out[k] = gatewayValue(v)
	}
	return out
}

func gatewayValue(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = gatewayValue(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case float64, bool, json.Number:
		b, _ := json.Marshal(t)
		return string(b)
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
}

// Token signs a local token (what `make token` prints).
func (a *Authorizer) Token(claims map[string]any) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString(a.Secret)
}

// SampleClaims are the claims of the sample partner admin that `make run`
// and `make token` sign for.
func SampleClaims(now time.Time) map[string]any {
	return map[string]any{
		"sub": "admin@fabrikam.example", "partner_id": "fabrikam", "partner_name": "Fabrikam Partners",
		"mpn_ids": []any{"1234567"}, "roles": []any{"IncentivesAdmin"},
		"iat": now.Unix(), "exp": now.Add(12 * time.Hour).Unix(),
	}
}
