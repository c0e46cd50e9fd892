// Package claim is the pure domain of customer-association claims (Claiming
// Partner of Record): the claim and its fields, the field rules, the product
// catalog, the lifecycle's transition table, business-day deadlines and the
// association keys a claim takes. It imports nothing of AWS.
package claim

import (
	"time"
)

// Status is where a claim stands in its lifecycle.
type Status string

// The statuses of API.md.
const (
	StatusDraft           Status = "Draft"
	StatusSubmitted       Status = "Submitted"
	StatusNeedsInfo       Status = "NeedsInfo"
	StatusPendingCustomer Status = "PendingCustomer"
	StatusOptedOut        Status = "OptedOut"
	StatusApproved        Status = "Approved"
	StatusRejected        Status = "Rejected"
	StatusWithdrawn       Status = "Withdrawn"
)

// Statuses lists every status, in lifecycle order.
var Statuses = []Status{
	StatusDraft, StatusSubmitted, StatusNeedsInfo, StatusPendingCustomer,
	StatusOptedOut, StatusApproved, StatusRejected, StatusWithdrawn,
}

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	for _, k := range Statuses {
		if s == k {
			return true
		}
	}
	return false
}

// SolutionArea is the incentive program's solution area.
type SolutionArea string

// The solution areas of the seed.
const (
	Microsoft365         SolutionArea = "Microsoft365"
	BusinessApplications SolutionArea = "BusinessApplications"
)

// Activity is the kind of engagement claimed.
type Activity string

// The activities of the seed.
const (
	ActivityUsage              Activity = "Usage"
	ActivityPreSales           Activity = "PreSales"
	ActivityUsageAndPreSales   Activity = "UsageAndPreSales"
	ActivityRevenueAssociation Activity = "RevenueAssociation"
)

// Customer identifies the customer's Microsoft Entra tenant.
type Customer struct {
	TenantID string `json:"tenantId"`
	Domain   string `json:"domain"`
	Name     string `json:"name,omitempty"`
}

// ProductRef is one product or workload claimed; SubscriptionID only on
// products associated per subscription.
type ProductRef struct {
	ID             string `json:"id"`
	SubscriptionID string `json:"subscriptionId,omitempty"`
}

// Contact is a customer-side contact (customer or technical).
type Contact struct {
	Name  string `json:"name,omitempty"`
	Title string `json:"title,omitempty"`
	Email string `json:"email,omitempty"`
}

// PartnerContact is the claiming partner's own contact.
type PartnerContact struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// Revenue holds the revenue-association fields (activity RevenueAssociation only).
type Revenue struct {
	SolutionSellerName string `json:"solutionSellerName,omitempty"`
	CustomerName       string `json:"customerName,omitempty"`
	ISVProductName     string `json:"isvProductName,omitempty"`
}

// Evidence is one proof-of-execution document attached to a claim.
type Evidence struct {
	ID          string    `json:"id"`
	FileName    string    `json:"fileName"`
	ContentType string    `json:"contentType"`
	Size        int64     `json:"size"`
	Uploaded    bool      `json:"uploaded"`
	AddedAt     time.Time `json:"addedAt"`
	// Invalid says why validation refused this file (unreadable, or not of
	// its declared type); such a file is not checked again and does not
	// count as proof: the partner uploads another and responds.
	Invalid string `json:"invalid,omitempty"`
	// VersionID is the storage version of the file as submitted (recorded
	// when it is first seen uploaded): validation reads exactly that
	// version, so an upload after submit changes nothing that was checked.
	VersionID string `json:"versionId,omitempty"`
}

// StatusReason is a machine-readable reason for the current status.
type StatusReason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Status reason codes.
const (
	ReasonConflict             = "conflict"
	ReasonEvidenceInvalid      = "evidence_invalid"
	ReasonEvidenceMissing      = "evidence_missing"
	ReasonTenantDomainMismatch = "tenant_domain_mismatch"
	ReasonNoResponse           = "no_response"
	ReasonOptedOut             = "opted_out"
	ReasonWithdrawn            = "withdrawn"
	ReasonCustomerUnreachable  = "customer_unreachable"
	// ReasonContactNotInTenant: the customer contact's email domain does
	// not belong to the claimed tenant, so the notice would not reach the
	// customer (v2).
	ReasonContactNotInTenant = "contact_not_in_tenant"
	// ReasonDeclinedRecently: the customer opted out of this partner's
	// claim on the same tenant and product within the cool-down (v2).
	ReasonDeclinedRecently = "customer_declined_recently"
	// ReasonEmailBounced: SES reported a bounce or complaint for the
	// customer's notice (v2).
	ReasonEmailBounced = "email_bounced"
)

// Claim is a customer-association claim. Its JSON form is the API's (API.md);
// the store keeps the same field names.
type Claim struct {
	ID               string          `json:"id"`
	Status           Status          `json:"status"`
	Version          int64           `json:"version"`
	Name             string          `json:"name,omitempty"`
	MPNID            string          `json:"mpnId"`
	PartnerID        string          `json:"partnerId"`
	PartnerName      string          `json:"partnerName,omitempty"`
	CreatedBy        string          `json:"createdBy,omitempty"`
	Customer         Customer        `json:"customer"`
	SolutionArea     SolutionArea    `json:"solutionArea"`
	Activity         Activity        `json:"activity"`
	Products         []ProductRef    `json:"products"`
	CustomerContact  *Contact        `json:"customerContact,omitempty"`
	TechnicalContact *Contact        `json:"technicalContact,omitempty"`
	PartnerContact   *PartnerContact `json:"partnerContact,omitempty"`
	Revenue          *Revenue        `json:"revenue,omitempty"`
	Comments         string          `json:"comments,omitempty"`
	Evidence         []Evidence      `json:"evidence"`
	OptOutDeadline   *time.Time      `json:"optOutDeadline,omitempty"`
	// CustomerNotifiedAt is when SES accepted the customer's opt-out email.
	CustomerNotifiedAt *time.Time `json:"customerNotifiedAt,omitempty"`
	// PartnerNotifiedAt is when SES accepted the partner contact's email
	// about the claim's current status (NeedsPartnerNotice); every
	// transition clears it.
	PartnerNotifiedAt *time.Time    `json:"partnerNotifiedAt,omitempty"`
	RespondBy         *time.Time    `json:"respondBy,omitempty"`
	StatusReason      *StatusReason `json:"statusReason,omitempty"`
	CreatedAt         time.Time     `json:"createdAt"`
	UpdatedAt         time.Time     `json:"updatedAt"`
	SubmittedAt       *time.Time    `json:"submittedAt,omitempty"`
	DecidedAt         *time.Time    `json:"decidedAt,omitempty"`
}

// ActorType says who did something to a claim.
type ActorType string

// Actor types of the history.
const (
	ActorPartner  ActorType = "partner"
	ActorCustomer ActorType = "customer"
	ActorSystem   ActorType = "system"
)

// Actor is who caused a history event: a partner user (its sub), the customer,
// or the system (validate, finalize).
type Actor struct {
	Type ActorType `json:"type"`
	ID   string    `json:"id"`
}

// Action is a history event's action (API.md "History actions").
type Action string

// The history actions of API.md.
const (
	ActionCreated           Action = "created"
	ActionUpdated           Action = "updated"
	ActionEvidenceAdded     Action = "evidence_added"
	ActionSubmitted         Action = "submitted"
	ActionMoreInfoRequested Action = "more_info_requested"
	ActionResponded         Action = "responded"
	ActionCustomerNotified  Action = "customer_notified"
	ActionOptedOut          Action = "opted_out"
	ActionApproved          Action = "approved"
	ActionRejected          Action = "rejected"
	ActionWithdrawn         Action = "withdrawn"
	ActionDisputed          Action = "disputed"
)

// Event is one entry of a claim's history.
type Event struct {
	At         time.Time         `json:"at"`
	Actor      Actor             `json:"actor"`
	Action     Action            `json:"action"`
	FromStatus Status            `json:"fromStatus,omitempty"`
	ToStatus   Status            `json:"toStatus,omitempty"`
	Detail     map[string]string `json:"detail,omitempty"`
}

// Usable reports whether the file was uploaded and not refused by
// validation.
func (e Evidence) Usable() bool { return e.Uploaded && e.Invalid == "" }

// NeedsPartnerNotice reports whether the claim's status calls for an email
// to its partner contact (API.md: when it needs more information and when
// it is decided) and there is a contact to email. A withdrawal is the
// partner's own act and calls for none.
func NeedsPartnerNotice(c *Claim) bool {
	if c.PartnerContact == nil || c.PartnerContact.Email == "" {
		return false
	}
	switch c.Status {
	case StatusNeedsInfo, StatusApproved, StatusRejected, StatusOptedOut:
		return true
	}
	return false
}
