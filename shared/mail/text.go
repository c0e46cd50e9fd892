package mail

import "strings"

// The plain-text parts and subjects of the emails, twins of emails.templ.
// Plain text needs no HTML escaping; every value goes through oneLine, so a
// name with CR or LF cannot add lines (or fake a link) to the text, and the
// subject goes through HeaderSafe when the message is built.

// oneLine folds control characters (CR, LF, tabs, ...) into spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029 || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}

// lines joins the text's lines, each ended by a newline.
func lines(ls ...string) string {
	return strings.Join(ls, "\n") + "\n"
}

func helloText(name string) string {
	if name == "" {
		return "Hello,"
	}
	return "Hello " + oneLine(name) + ","
}

func organization(name, domain string) string {
	if name == "" {
		return "(" + domain + ")"
	}
	return name + " (" + domain + ")"
}

func customerNoticeSubject(n customerNotice) string {
	return n.PartnerName + " has asked to be associated with your Microsoft services"
}

func customerNoticeText(n customerNotice) string {
	var products []string
	for _, p := range n.Products {
		products = append(products, "  - "+oneLine(p))
	}
	return lines(
		helloText(n.ContactName),
		"",
		oneLine(n.PartnerName)+" has asked to be recorded as the partner of record (Claiming Partner of Record) for your organization's Microsoft services:",
		"",
		"Organization: "+oneLine(organization(n.CustomerName, n.Domain)),
		"Tenant ID: "+oneLine(n.TenantID),
		"Products and workloads:",
		strings.Join(products, "\n"),
		"",
		"If you agree, you need to do nothing. Once the association is official, "+oneLine(n.PartnerName)+" can see usage data of these workloads for your tenant.",
		"",
		"If you do not want this partner to be associated with these services, you can opt out until "+n.Deadline+":",
		"",
		oneLine(n.Link),
		"",
		"Opening the link changes nothing by itself; the page asks you to confirm.",
	)
}

func partnerDecidedSubject(n partnerNotice) string {
	return `Claim "` + n.ClaimName + `": ` + n.Outcome
}

func partnerDecidedText(n partnerNotice) string {
	ls := []string{
		helloText(n.ContactName),
		"",
		`Your customer association claim "` + oneLine(n.ClaimName) + `" for ` + oneLine(n.Domain) + " is " + n.Outcome + ".",
	}
	if n.Reason != "" {
		ls = append(ls, "", "Reason: "+oneLine(n.Reason))
	}
	return lines(append(ls, "", "Claim ID: "+oneLine(n.ClaimID))...)
}

func partnerNeedsInfoSubject(n partnerNotice) string {
	return `Action required: claim "` + n.ClaimName + `" needs more information`
}

func partnerNeedsInfoText(n partnerNotice) string {
	return lines(
		helloText(n.ContactName),
		"",
		`Your customer association claim "`+oneLine(n.ClaimName)+`" for `+oneLine(n.Domain)+" needs more information.",
		"",
		"What is missing: "+oneLine(n.Reason),
		"",
		"Add the missing evidence and respond by "+n.RespondBy+". A claim without a response by then is rejected.",
		"",
		"Claim ID: "+oneLine(n.ClaimID),
	)
}
