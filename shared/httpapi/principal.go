package httpapi

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// AdminRole is the role every write needs.
const AdminRole = "IncentivesAdmin"

// Principal is the caller, from the JWT authorizer's claims.
type Principal struct {
	Sub         string
	PartnerID   string
	PartnerName string
	MPNIDs      []string
	Roles       []string
}

// PrincipalFrom reads the verified claims API Gateway passes on (every value
// a string). Without them the request is 401.
func PrincipalFrom(req events.APIGatewayV2HTTPRequest) (Principal, error) {
	az := req.RequestContext.Authorizer
	if az == nil || az.JWT == nil {
		return Principal{}, Unauthorized("No verified token.")
	}
	c := az.JWT.Claims
	p := Principal{
		Sub: strings.TrimSpace(c["sub"]), PartnerID: strings.TrimSpace(c["partner_id"]),
		PartnerName: strings.TrimSpace(c["partner_name"]),
		MPNIDs:      ListClaim(c["mpn_ids"]), Roles: ListClaim(c["roles"]),
	}
	if p.Sub == "" || p.PartnerID == "" {
		return Principal{}, Unauthorized("The token lacks sub or partner_id.")
	}
	return p, nil
}

// IsAdmin reports whether the caller has the IncentivesAdmin role.
func (p Principal) IsAdmin() bool { return slices.Contains(p.Roles, AdminRole) }

// ListClaim reads a list claim in any of the forms it arrives in: the
// gateway's "[a b]", JSON array text `["a","b"]`, or a space- (or comma-)
// separated string.
func ListClaim(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if strings.HasPrefix(s, "[") {
		var arr []any
		if json.Unmarshal([]byte(s), &arr) == nil {
			out := make([]string, 0, len(arr))
			for _, v := range arr {
				if str, ok := v.(string); ok && strings.TrimSpace(str) != "" {
					out = append(out, strings.TrimSpace(str))
				} else if n, ok := v.(float64); ok {
					b, _ := json.Marshal(n)
					out = append(out, string(b))
				}
			}
			return out
		}
		s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	}
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
}
