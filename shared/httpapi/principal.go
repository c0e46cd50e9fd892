package httpapi

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// AdminRole is the role every write needs.
const AdminRole = "IncentivesAdmin"

// Principal is the caller, read from the JWT authorizer's verified claims.
type Principal struct {
	Sub         string   // the user
	PartnerID   string   // the partner organisation
	PartnerName string   // its display name; may be empty
	MPNIDs      []string // the partner locations the user may claim for
	Roles       []string
}

// PrincipalFrom reads the claims API Gateway's JWT authorizer passes on
// (requestContext.authorizer.jwt.claims, every value a string). Without an
// authorizer, sub or partner_id the request is 401 unauthorized.
func PrincipalFrom(req events.APIGatewayV2HTTPRequest) (Principal, error) {
	az := req.RequestContext.Authorizer
	if az == nil || az.JWT == nil {
		return Principal{}, Unauthorized("The request carries no verified token.")
	}
	c := az.JWT.Claims
	p := Principal{
		Sub:         strings.TrimSpace(c["sub"]),
		PartnerID:   strings.TrimSpace(c["partner_id"]),
		PartnerName: strings.TrimSpace(c["partner_name"]),
		MPNIDs:      ListClaim(c["mpn_ids"]),
		Roles:       ListClaim(c["roles"]),
	}
	if p.Sub == "" || p.PartnerID == "" {
		return Principal{}, Unauthorized("The token lacks sub or partner_id.")
	}
	if strings.Contains(p.PartnerID, "#") {
		// The partner id is part of table keys, whose parts "#" separates.
		return Principal{}, Unauthorized("The token's partner_id contains '#'.")
	}
	return p, nil
}

// IsAdmin reports whether the caller has the IncentivesAdmin role.
func (p Principal) IsAdmin() bool { return slices.Contains(p.Roles, AdminRole) }

// ListClaim reads a list claim in any form it arrives in: the gateway's
// "[a b]", JSON array text `["a","b"]` (numbers kept as written), or a
// space- or comma-separated string. Empty items are dropped. A value that
// looks like JSON (it starts with "[" or "{" and holds JSON's quotes,
// commas, colons or brackets) but does not parse as an array of strings and
// numbers grants nothing: it is never split into words some of which could
// read as a role or an MPN ID.
func ListClaim(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if strings.HasPrefix(s, "{") {
		return nil
	}
	if strings.HasPrefix(s, "[") {
		if out, ok := jsonList(s); ok {
			return out
		}
		inner := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		if !strings.HasSuffix(s, "]") || strings.ContainsAny(inner, "\"'[]{},:") {
			return nil // JSON-like, not JSON
		}
		s = inner // the gateway's [a b]
	}
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if f = strings.Trim(f, `"'`); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// jsonList reads JSON array text of strings and numbers.
func jsonList(s string) ([]string, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var arr []any
	if dec.Decode(&arr) != nil || dec.More() {
		return nil, false
	}
	out := make([]string, 0, len(arr))
	for _, v := range arr {
		var item string
		switch v := v.(type) {
		case string:
			item = strings.TrimSpace(v)
		case json.Number:
			item = v.String()
		default:
			return nil, false
		}
		if item != "" {
			out = append(out, item)
		}
	}
	return out, true
}
