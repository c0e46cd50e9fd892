package claim

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// FieldError is one invalid or missing field, by dotted path
// (customer.tenantId, products[0].id).
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Kind tells invalid values (422 invalid_input) from missing data at submit
// (422 incomplete).
type Kind int

// Kinds of validation errors.
const (
	KindInvalid Kind = iota
	KindIncomplete
)

// ValidationError lists every failing field at once.
type ValidationError struct {
	Kind   Kind
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, f := range e.Errors {
		parts[i] = f.Field + ": " + f.Message
	}
	return "validation failed: " + strings.Join(parts, "; ")
}

// Length bounds of text fields (in characters).
const (
	MaxName        = 200
	MaxPersonName  = 100
	MaxTitle       = 100
	MaxEmail       = 254
	MaxCompanyName = 200
	MaxComments    = 4000
	MaxProducts    = 25
	MaxMPNID       = 10
)

type errs struct{ list []FieldError }

func (e *errs) add(field, msg string) {
	e.list = append(e.list, FieldError{Field: field, Message: msg})
}

func (e *errs) text(field, value string, max int, multiline bool) {
	if fe := ValidateText(field, value, max, multiline); fe != nil {
		e.list = append(e.list, *fe)
	}
}

func (e *errs) err(kind Kind) error {
	if len(e.list) == 0 {
		return nil
	}
	return &ValidationError{Kind: kind, Errors: e.list}
}

// ValidateText checks one text value: valid UTF-8, no control characters
// (line breaks and tabs allowed when multiline), at most max characters. An
// empty value passes (required-ness is checked apart).
func ValidateText(field, value string, max int, multiline bool) *FieldError {
	if !utf8.ValidString(value) {
		return &FieldError{field, "must be valid UTF-8"}
	}
	for _, r := range value {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return &FieldError{field, "must not contain control characters"}
		}
	}
	if n := utf8.RuneCountInString(value); n > max {
		return &FieldError{field, fmt.Sprintf("must be at most %d characters", max)}
	}
	return nil
}

// IsGUID reports whether s is a GUID in its canonical 8-4-4-4-12 form.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// IsDNSName reports whether s is a valid DNS host name of at least two
// labels (RFC 1035 / 1123 label rules).
func IsDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	// The top-level label is never all digits (that would be an IP address).
	tld := labels[len(labels)-1]
	return strings.ContainsFunc(tld, func(r rune) bool { return r < '0' || r > '9' })
}

// IsEmail reports whether s is one plain address (no display name) with a
// DNS domain, as net/mail parses it.
func IsEmail(s string) bool {
	if len(s) > MaxEmail {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && IsDNSName(s[at+1:])
}

func trim(p *string) { *p = strings.TrimSpace(*p) }

// Normalize trims every text field and lowercases the domain, GUIDs and
// product ids.
func Normalize(c *Claim) {
	for _, p := range []*string{&c.Name, &c.MPNID, &c.Customer.TenantID, &c.Customer.Domain, &c.Customer.Name, &c.Comments} {
		trim(p)
	}
	c.Customer.TenantID = strings.ToLower(c.Customer.TenantID)
	c.Customer.Domain = strings.ToLower(strings.TrimSuffix(c.Customer.Domain, "."))
	for i := range c.Products {
		trim(&c.Products[i].ID)
		trim(&c.Products[i].SubscriptionID)
		c.Products[i].SubscriptionID = strings.ToLower(c.Products[i].SubscriptionID)
	}
	for _, ct := range []*Contact{c.CustomerContact, c.TechnicalContact} {
		if ct != nil {
			trim(&ct.Name)
			trim(&ct.Title)
			trim(&ct.Email)
		}
	}
	if c.PartnerContact != nil {
		trim(&c.PartnerContact.Name)
		trim(&c.PartnerContact.Email)
	}
	if c.Revenue != nil {
		trim(&c.Revenue.SolutionSellerName)
		trim(&c.Revenue.CustomerName)
		trim(&c.Revenue.ISVProductName)
	}
}

// ValidateValues checks every value given (a Draft may be incomplete); the
// five fields a Draft is created with are always required. callerMPNIDs are
// the caller's MPN IDs; nil skips the membership check (a claim already
// stored is checked again at submit without its creator's token).
func ValidateValues(c *Claim, callerMPNIDs []string) error {
	var e errs
	valueRules(&e, c, callerMPNIDs)
	return e.err(KindInvalid)
}

func valueRules(e *errs, c *Claim, callerMPNIDs []string) {
	switch {
	case c.MPNID == "":
		e.add("mpnId", "is required")
	case len(c.MPNID) > MaxMPNID || strings.ContainsFunc(c.MPNID, func(r rune) bool { return r < '0' || r > '9' }):
		e.add("mpnId", "must be 1 to 10 digits")
	case callerMPNIDs != nil && !slices.Contains(callerMPNIDs, c.MPNID):
		e.add("mpnId", "is not one of your MPN IDs")
	}
	switch {
	case c.Customer.TenantID == "":
		e.add("customer.tenantId", "is required")
	case !IsGUID(c.Customer.TenantID):
		e.add("customer.tenantId", "must be a GUID (directory ID)")
	}
	switch {
	case c.Customer.Domain == "":
		e.add("customer.domain", "is required")
	case !IsDNSName(c.Customer.Domain):
		e.add("customer.domain", "must be a valid domain name")
	}
	e.text("customer.name", c.Customer.Name, MaxCompanyName, false)
	e.text("name", c.Name, MaxName, false)
	e.text("comments", c.Comments, MaxComments, true)

	areaOK := c.SolutionArea == Microsoft365 || c.SolutionArea == BusinessApplications
	switch {
	case c.SolutionArea == "":
		e.add("solutionArea", "is required")
	case !areaOK:
		e.add("solutionArea", "must be Microsoft365 or BusinessApplications")
	}
	switch c.Activity {
	case "":
		e.add("activity", "is required")
	case ActivityUsage, ActivityPreSales, ActivityUsageAndPreSales:
	case ActivityRevenueAssociation:
		if c.SolutionArea == Microsoft365 {
			e.add("activity", "RevenueAssociation is only for BusinessApplications")
		}
	default:
		e.add("activity", "must be Usage, PreSales, UsageAndPreSales or RevenueAssociation")
	}
	productRules(e, c, areaOK)
	contactRules(e, "customerContact", c.CustomerContact)
	contactRules(e, "technicalContact", c.TechnicalContact)
	if pc := c.PartnerContact; pc != nil {
		e.text("partnerContact.name", pc.Name, MaxPersonName, false)
		emailRule(e, "partnerContact.email", pc.Email)
	}
	if r := c.Revenue; r != nil {
		if c.Activity != ActivityRevenueAssociation {
			e.add("revenue", "is only for activity RevenueAssociation")
		}
		e.text("revenue.solutionSellerName", r.SolutionSellerName, MaxCompanyName, false)
		e.text("revenue.customerName", r.CustomerName, MaxCompanyName, false)
		e.text("revenue.isvProductName", r.ISVProductName, MaxCompanyName, false)
	}
}

func productRules(e *errs, c *Claim, areaOK bool) {
	if len(c.Products) > MaxProducts {
		e.add("products", fmt.Sprintf("at most %d products", MaxProducts))
		return
	}
	seen := map[ProductRef]bool{}
	for i, p := range c.Products {
		field := fmt.Sprintf("products[%d]", i)
		prod, ok := LookupProduct(p.ID)
		switch {
		case p.ID == "":
			e.add(field+".id", "is required")
			continue
		case !ok:
			e.add(field+".id", "is not a product of the catalog")
			continue
		case areaOK && prod.SolutionArea != c.SolutionArea:
			e.add(field+".id", "is not a product of solution area "+string(c.SolutionArea))
		}
		if p.SubscriptionID != "" {
			if prod.AssociationUnit != UnitSubscription {
				e.add(field+".subscriptionId", "only products associated per subscription take a subscription ID")
			} else if !IsGUID(p.SubscriptionID) {
				e.add(field+".subscriptionId", "must be a GUID")
			}
		}
		if seen[p] {
			e.add(field, "is listed twice")
		}
		seen[p] = true
	}
}

func contactRules(e *errs, field string, ct *Contact) {
	if ct == nil {
		return
	}
	e.text(field+".name", ct.Name, MaxPersonName, false)
	e.text(field+".title", ct.Title, MaxTitle, false)
	emailRule(e, field+".email", ct.Email)
}

func emailRule(e *errs, field, v string) {
	if v == "" {
		return
	}
	if fe := ValidateText(field, v, MaxEmail, false); fe != nil {
		e.list = append(e.list, *fe)
		return
	}
	if !IsEmail(v) {
		e.add(field, "must be a valid email address")
	}
}

// NeedsTechnicalContact reports whether any product is a Dynamics 365 one.
func NeedsTechnicalContact(c *Claim) bool {
	for _, p := range c.Products {
		if prod, ok := LookupProduct(p.ID); ok && prod.Dynamics365 {
			return true
		}
	}
	return false
}

// ValidateComplete is what submit requires: every value valid, and every
// required field and an uploaded evidence present. Missing data is
// KindIncomplete (with the invalid values, if any, listed too).
func ValidateComplete(c *Claim) error {
	var e errs
	valueRules(&e, c, nil)
	invalid := len(e.list)
	req := func(field, v string) {
		if v == "" {
			e.add(field, "is required")
		}
	}
	req("name", c.Name)
	if len(c.Products) == 0 {
		e.add("products", "at least one product is required")
	}
	contact := func(field string, ct *Contact) {
		if ct == nil {
			ct = &Contact{}
		}
		req(field+".name", ct.Name)
		req(field+".title", ct.Title)
		req(field+".email", ct.Email)
	}
	contact("customerContact", c.CustomerContact)
	if NeedsTechnicalContact(c) {
		contact("technicalContact", c.TechnicalContact)
	}
	pc := c.PartnerContact
	if pc == nil {
		pc = &PartnerContact{}
	}
	req("partnerContact.name", pc.Name)
	req("partnerContact.email", pc.Email)
	if c.Activity == ActivityRevenueAssociation {
		r := c.Revenue
		if r == nil {
			r = &Revenue{}
		}
		req("revenue.solutionSellerName", r.SolutionSellerName)
		req("revenue.customerName", r.CustomerName)
		req("revenue.isvProductName", r.ISVProductName)
	}
	if !slices.ContainsFunc(c.Evidence, func(ev Evidence) bool { return ev.Uploaded }) {
		e.add("evidence", "upload at least one proof of execution")
	}
	if len(e.list) > invalid {
		return e.err(KindIncomplete)
	}
	return e.err(KindInvalid)
}
