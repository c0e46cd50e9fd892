package mail

import "strings"

func productLines(ps []string) string {
	var out []string
	for _, p := range ps {
		out = append(out, "  - "+oneLine(p))
	}
	return strings.Join(out, "\n")
}

func customerApprovedSubject(n customerAssociation) string {
	return n.PartnerName + " is now associated with your Microsoft services"
}

func customerApprovedText(n customerAssociation) string {
	return lines(
		helloText(n.ContactName),
		"",
		oneLine(n.PartnerName)+" is now recorded as the partner of record (Claiming Partner of Record) for your organization's Microsoft services:",
		"",
		"Organization: "+oneLine(organization(n.CustomerName, n.Domain)),
		"Tenant ID: "+oneLine(n.TenantID),
		"Products and workloads:",
		productLines(n.Products),
		"",
		oneLine(n.PartnerName)+" can now see usage data of these workloads for your tenant. You can end this association at any time:",
		"",
		oneLine(n.Link),
		"",
		"Opening the link changes nothing by itself; the page asks you to confirm.",
	)
}

func customerEndedSubject(n customerAssociation) string {
	return n.PartnerName + " is no longer associated with your Microsoft services"
}

func customerEndedText(n customerAssociation) string {
	return lines(
		helloText(n.ContactName),
		"",
		oneLine(n.PartnerName)+" has ended its association (Claiming Partner of Record) with your organization's Microsoft services:",
		"",
		"Organization: "+oneLine(organization(n.CustomerName, n.Domain)),
		"Tenant ID: "+oneLine(n.TenantID),
		"Products and workloads:",
		productLines(n.Products),
		"",
		"The partner gave this reason: "+oneLine(n.Reason),
		"",
		oneLine(n.PartnerName)+" no longer sees usage data of these workloads for your tenant. You need to do nothing.",
	)
}
