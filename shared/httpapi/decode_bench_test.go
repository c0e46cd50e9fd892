package httpapi

import "testing"

// benchClaim has the shape of a create body (service.Fields).
type benchClaim struct {
	Name     string `json:"name,omitempty"`
	MPNID    string `json:"mpnId"`
	Customer struct {
		TenantID string `json:"tenantId"`
		Domain   string `json:"domain"`
		Name     string `json:"name,omitempty"`
	} `json:"customer"`
	SolutionArea string `json:"solutionArea"`
	Activity     string `json:"activity"`
	Products     []struct {
		ID             string `json:"id"`
		SubscriptionID string `json:"subscriptionId,omitempty"`
	} `json:"products,omitempty"`
	CustomerContact *struct {
		Name  string `json:"name,omitempty"`
		Title string `json:"title,omitempty"`
		Email string `json:"email,omitempty"`
	} `json:"customerContact,omitempty"`
	Comments string `json:"comments,omitempty"`
}

const benchBody = `{"name":"Contoso Teams rollout","mpnId":"1234567","customer":{"tenantId":"5f8a2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b","domain":"contoso.onmicrosoft.com","name":"Contoso"},"solutionArea":"ModernWork","activity":"Usage","products":[{"id":"teams"},{"id":"dynamics-365-sales","subscriptionId":"0f8a2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b"}],"customerContact":{"name":"Ann","title":"CIO","email":"ann@contoso.com"},"comments":"Deployed in March."}`

// BenchmarkDecodeJSON is the decoding a create pays (make bench measures
// whole requests).
func BenchmarkDecodeJSON(b *testing.B) {
	req := jsonReq(benchBody, "content-type", "application/json")
	b.ReportAllocs()
	for b.Loop() {
		var dst benchClaim
		if _, err := DecodeJSON(req, &dst); err != nil {
			b.Fatal(err)
		}
	}
}
