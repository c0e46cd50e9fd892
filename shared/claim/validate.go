package claim

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/net/idna"
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

// String names the kind as the API's error code does.
func (k Kind) String() string {
	if k == KindIncomplete {
		return "incomplete"
	}
	return "invalid_input"
}

// ValidationError lists every failing field at once. Retrieve it with
// errors.As(err, &ve) where ve is a *ValidationError.
type ValidationError struct {
	Kind   Kind
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, f := range e.Errors {
		parts[i] = f.Field + ": " + f.Message
	}
	return e.Kind.String() + ": " + strings.Join(parts, "; ")
}

// Length bounds of text fields, in characters (Unicode code points).
const (
	MaxName        = 200  // the claim's name
	MaxPersonName  = 100  // a contact's name
	MaxTitle       = 100  // a contact's job title
	MaxEmail       = 254  // an email address (RFC 5321 path limit)
	MaxCompanyName = 200  // customer.name and the revenue fields
	MaxComments    = 4000 // comments, and respond/dispute texts
	MaxProducts    = 25   // products on one claim
	MaxMPNID       = 10   // digits of an MPN ID
	maxEmailLocal  = 64   // the part of an address before the @ (RFC 5321)
	maxDNSName     = 253
	maxDNSLabel    = 63
)

// errs collects field errors in the order the rules run.
type errs struct{ list []FieldError }

func (e *errs) add(field, msg string) {
	e.list = append(e.list, FieldError{Field: field, Message: msg})
}

func (e *errs) text(field, value string, max int, multiline bool) {
	if fe := ValidateText(field, value, max, multiline); fe != nil {
		e.list = append(e.list, *fe)
	}
}

func (e *errs) required(field, value string) {
	if value == "" {
		e.add(field, "is required")
	}
}

func (e *errs) err(kind Kind) error {
	if len(e.list) == 0 {
		return nil
	}
	return &ValidationError{Kind: kind, Errors: e.list}
}

// ValidateText checks one text value: valid UTF-8, no control characters
// (U+2028, U+2029 and the bidirectional embedding, override and isolate
// controls count as such; line feeds, carriage returns and tabs are allowed
// when multiline), at most max characters. An empty value passes:
// required-ness is checked apart. Handlers use it for respond and dispute
// texts (MaxComments, multiline).
func ValidateText(field, value string, max int, multiline bool) *FieldError {
	if !utf8.ValidString(value) {
		return &FieldError{field, "must be valid UTF-8"}
	}
	for _, r := range value {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if isControl(r) {
			return &FieldError{field, "must not contain control characters"}
		}
	}
	if n := utf8.RuneCountInString(value); n > max {
		return &FieldError{field, fmt.Sprintf("must be at most %d characters", max)}
	}
	return nil
}

// isControl reports the characters no text field may hold: C0 and C1
// controls, the line and paragraph separators, and the bidirectional
// embeddings, overrides and isolates (they reorder how the rest of a line is
// displayed, e.g. in the customer's email).
func isControl(r rune) bool {
	return unicode.IsControl(r) ||
		r == '\u2028' || r == '\u2029' ||
		(r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// IsGUID reports whether s is a GUID in its canonical 8-4-4-4-12 form (any
// letter case; Normalize lowercases it).
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// hostNames is the IDNA profile domains are checked and canonicalised with
// (UTS #46 through golang.org/x/net/idna, as a resolver looks names up):
// Unicode names are mapped (case folded, width normalised) and converted to
// their ASCII (xn--) form, labels are checked against the STD3 host name
// rules (letters, digits, hyphens; no underscores, spaces or other
// punctuation), hyphen placement, joiners and the bidi rule, and the name's
// and each label's DNS length are verified, empty labels included.
var hostNames = idna.New(
	idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false),
	idna.StrictDomainName(true), idna.ValidateLabels(true), idna.VerifyDNSLength(true),
)

// DomainASCII returns the domain's canonical ASCII form (lowercase, A-labels
// for internationalized labels, no trailing root dot) and whether it is a
// valid DNS host name of at least two labels: the IDNA checks of hostNames,
// then at most 253 characters and 63 per label in ASCII form, and a
// top-level label that is not all digits (that would be an IPv4 address).
func DomainASCII(s string) (string, bool) {
	s = strings.TrimSuffix(s, ".")
	if s == "" || !utf8.ValidString(s) {
		return "", false
	}
	a, err := hostNames.ToASCII(s)
	if err != nil || len(a) > maxDNSName || strings.HasSuffix(a, ".") {
		return "", false
	}
	labels := strings.Split(a, ".")
	if len(labels) < 2 || slices.ContainsFunc(labels, func(l string) bool { return l == "" || len(l) > maxDNSLabel }) {
		return "", false
	}
	tld := labels[len(labels)-1]
	if !strings.ContainsFunc(tld, func(r rune) bool { return r < '0' || r > '9' }) {
		return "", false
	}
	return a, true
}

// IsDNSName reports whether s is a valid DNS host name of at least two
// labels (DomainASCII), in ASCII or internationalized (Unicode) form. One
// trailing dot (the root) is tolerated.
func IsDNSName(s string) bool {
	_, ok := DomainASCII(s)
	return ok
}

// IsEmail reports whether s is one plain address as net/mail parses it (no
// display name, no angle brackets, no comments, no quoted local part), in
// ASCII (SES refuses other local parts), with a local part of at most 64
// characters and a DNS domain of at least two labels.
func IsEmail(s string) bool {
	if len(s) > MaxEmail || strings.ContainsFunc(s, func(r rune) bool { return r >= utf8.RuneSelf }) {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at <= maxEmailLocal && !strings.HasSuffix(s, ".") && IsDNSName(s[at+1:])
}

func trim(fields ...*string) {
	for _, p := range fields {
		*p = strings.TrimSpace(*p)
	}
}

// Normalize trims the surrounding white space of every text field (name,
// mpnId, customer fields, contacts, revenue fields, comments, product and
// subscription ids), lowercases the tenant id and the subscription ids, and
// puts a valid domain in its canonical ASCII form (DomainASCII: lowercase,
// xn-- labels, no trailing root dot; an invalid one is only lowercased, for
// the validation to report). Product ids keep their case: catalog ids are
// lowercase and must be sent as such.
func Normalize(c *Claim) {
	trim(&c.Name, &c.MPNID, &c.Customer.TenantID, &c.Customer.Domain, &c.Customer.Name, &c.Comments)
	c.Customer.TenantID = strings.ToLower(c.Customer.TenantID)
	if a, ok := DomainASCII(c.Customer.Domain); ok {
		c.Customer.Domain = a
	} else {
		c.Customer.Domain = strings.ToLower(strings.TrimSuffix(c.Customer.Domain, "."))
	}
	for i := range c.Products {
		p := &c.Products[i]
		trim(&p.ID, &p.SubscriptionID)
		p.SubscriptionID = strings.ToLower(p.SubscriptionID)
	}
	for _, ct := range []*Contact{c.CustomerContact, c.TechnicalContact} {
		if ct != nil {
			trim(&ct.Name, &ct.Title, &ct.Email)
		}
	}
	if pc := c.PartnerContact; pc != nil {
		trim(&pc.Name, &pc.Email)
	}
	if r := c.Revenue; r != nil {
		trim(&r.SolutionSellerName, &r.CustomerName, &r.ISVProductName)
	}
}

// ValidateValues checks every value given (a Draft may be incomplete); the
// five fields a Draft is created with (mpnId, customer.tenantId,
// customer.domain, solutionArea, activity) are always required. The claim
// should be Normalized first. callerMPNIDs are the caller's MPN IDs: mpnId
// must be one of them, so a caller with none (nil or empty) can claim for no
// MPN ID at all. The error is a *ValidationError of KindInvalid listing
// every failing field.
func ValidateValues(c *Claim, callerMPNIDs []string) error {
	var e errs
	valueRules(&e, c, mpnOfCaller(callerMPNIDs))
	return e.err(KindInvalid)
}

// mpnCheck says whether an MPN ID may be claimed for; nil only where no
// caller is asked (ValidateComplete, on a stored claim).
type mpnCheck func(id string) bool

func mpnOfCaller(ids []string) mpnCheck {
	ids = slices.Clone(ids)
	return func(id string) bool { return slices.Contains(ids, id) }
}

func valueRules(e *errs, c *Claim, mine mpnCheck) {
	mpnIDRule(e, c.MPNID, mine)
	customerRules(e, c.Customer)
	e.text("name", c.Name, MaxName, false)
	areaOK := areaRules(e, c.SolutionArea, c.Activity)
	productRules(e, c, areaOK)
	contactRules(e, "customerContact", c.CustomerContact)
	contactRules(e, "technicalContact", c.TechnicalContact)
	if pc := c.PartnerContact; pc != nil {
		e.text("partnerContact.name", pc.Name, MaxPersonName, false)
		emailRule(e, "partnerContact.email", pc.Email)
	}
	revenueRules(e, c.Revenue, c.Activity)
	e.text("comments", c.Comments, MaxComments, true)
}

func mpnIDRule(e *errs, id string, mine mpnCheck) {
	switch {
	case id == "":
		e.add("mpnId", "is required")
	case len(id) > MaxMPNID || strings.ContainsFunc(id, func(r rune) bool { return r < '0' || r > '9' }):
		e.add("mpnId", fmt.Sprintf("must be 1 to %d digits", MaxMPNID))
	case mine != nil && !mine(id):
		e.add("mpnId", "is not one of your MPN IDs")
	}
}

func customerRules(e *errs, cu Customer) {
	switch {
	case cu.TenantID == "":
		e.add("customer.tenantId", "is required")
	case !IsGUID(cu.TenantID):
		e.add("customer.tenantId", "must be a GUID (the directory ID, 8-4-4-4-12 hex digits)")
	}
	switch {
	case cu.Domain == "":
		e.add("customer.domain", "is required")
	case !IsDNSName(cu.Domain):
		e.add("customer.domain", "must be a valid domain name, such as contoso.onmicrosoft.com")
	}
	e.text("customer.name", cu.Name, MaxCompanyName, false)
}

// areaRules checks the solution area and the activity, and reports whether
// the area is a known one (products are checked against it only then).
func areaRules(e *errs, area SolutionArea, activity Activity) bool {
	areaOK := area == Microsoft365 || area == BusinessApplications
	switch {
	case area == "":
		e.add("solutionArea", "is required")
	case !areaOK:
		e.add("solutionArea", "must be Microsoft365 or BusinessApplications")
	}
	switch activity {
	case "":
		e.add("activity", "is required")
	case ActivityUsage, ActivityPreSales, ActivityUsageAndPreSales:
	case ActivityRevenueAssociation:
		if area == Microsoft365 {
			e.add("activity", "RevenueAssociation is only for BusinessApplications")
		}
	default:
		e.add("activity", "must be Usage, PreSales, UsageAndPreSales or RevenueAssociation")
	}
	return areaOK
}

func productRules(e *errs, c *Claim, areaOK bool) {
	if len(c.Products) > MaxProducts {
		e.add("products", fmt.Sprintf("must list at most %d products", MaxProducts))
		return
	}
	seen := make(map[ProductRef]int, len(c.Products))
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
		subscriptionRule(e, field+".subscriptionId", prod, p.SubscriptionID)
		k := ProductRef{ID: p.ID, SubscriptionID: strings.ToLower(p.SubscriptionID)}
		if j, dup := seen[k]; dup {
			e.add(field, fmt.Sprintf("repeats products[%d]", j))
			continue
		}
		seen[k] = i
	}
}

func subscriptionRule(e *errs, field string, prod Product, sub string) {
	switch {
	case sub == "":
	case prod.AssociationUnit != UnitSubscription:
		e.add(field, "is only for products associated per subscription")
	case !IsGUID(sub):
		e.add(field, "must be a GUID")
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
		e.add(field, "must be a valid email address, such as ana@contoso.com")
	}
}

func revenueRules(e *errs, r *Revenue, activity Activity) {
	if r == nil {
		return
	}
	if activity != ActivityRevenueAssociation {
		e.add("revenue", "is only for activity RevenueAssociation")
	}
	e.text("revenue.solutionSellerName", r.SolutionSellerName, MaxCompanyName, false)
	e.text("revenue.customerName", r.CustomerName, MaxCompanyName, false)
	e.text("revenue.isvProductName", r.ISVProductName, MaxCompanyName, false)
}

// NeedsTechnicalContact reports whether any product is a Dynamics 365 one.
func NeedsTechnicalContact(c *Claim) bool {
	return slices.ContainsFunc(c.Products, func(p ProductRef) bool {
		prod, ok := LookupProduct(p.ID)
		return ok && prod.Dynamics365
	})
}

// ValidateComplete is what submit requires: every value valid (as
// ValidateValues, except that the MPN ID is not checked against a caller's:
// it was checked against its editor's every time the Draft was written), and
// every required field and an uploaded evidence present. Any missing data makes a *ValidationError of
// KindIncomplete, listing the missing fields and the invalid values alike;
// invalid values alone make KindInvalid.
func ValidateComplete(c *Claim) error {
	var e errs
	valueRules(&e, c, nil) // no caller: see above
	invalid := len(e.list)
	requiredRules(&e, c)
	if len(e.list) > invalid {
		return e.err(KindIncomplete)
	}
	return e.err(KindInvalid)
}

func requiredRules(e *errs, c *Claim) {
	e.required("name", c.Name)
	if len(c.Products) == 0 {
		e.add("products", "must list at least one product")
	}
	requiredContact(e, "customerContact", c.CustomerContact)
	if NeedsTechnicalContact(c) {
		requiredContact(e, "technicalContact", c.TechnicalContact)
	}
	pc := c.PartnerContact
	if pc == nil {
		pc = &PartnerContact{}
	}
	e.required("partnerContact.name", pc.Name)
	e.required("partnerContact.email", pc.Email)
	if c.Activity == ActivityRevenueAssociation {
		r := c.Revenue
		if r == nil {
			r = &Revenue{}
		}
		e.required("revenue.solutionSellerName", r.SolutionSellerName)
		e.required("revenue.customerName", r.CustomerName)
		e.required("revenue.isvProductName", r.ISVProductName)
	}
	if !slices.ContainsFunc(c.Evidence, Evidence.Usable) {
		e.add("evidence", "must hold at least one uploaded proof of execution that validation has not refused")
	}
}

func requiredContact(e *errs, field string, ct *Contact) {
	if ct == nil {
		ct = &Contact{}
	}
	e.required(field+".name", ct.Name)
	e.required(field+".title", ct.Title)
	e.required(field+".email", ct.Email)
}
