package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/local/runner"
	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
)

// ownRunner starts a runner for one test, with template parameters, and
// returns a DynamoDB client on that runner's own emulator. Under make test
// (one shared stack) it runs on the shared stack; run alone, on a stack of
// its own. runner.Start points this process's AWS variables at the stack it
// uses; they are put back at once, so other tests keep theirs.
func ownRunner(t *testing.T, prefix string, params map[string]string) (*runner.Runner, *dynamodb.Client) {
	t.Helper()
	defer apitest.KeepAWSEnv()()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := runner.Start(ctx, runner.Config{
		Root: testenv.Root(), Addr: "127.0.0.1:0", Prefix: fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%1e6),
		MaxInstances: 2, ScheduleEvery: -1, RetryDelay: time.Second, Params: params, Log: apitest.LogSink(),
	})
	if err != nil {
		t.Fatalf("runner: %v", err)
	}
	t.Cleanup(r.Close)
	cfg, err := config.LoadDefaultConfig(ctx) // the runner's stack, as it set it
	if err != nil {
		t.Fatal(err)
	}
	db := awsclient.DynamoDB(cfg)
	if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &r.Resources().TableName}); err != nil {
		t.Fatalf("the runner's table is not where its stack is: %v", err)
	}
	return r, db
}

// identity plays the Microsoft identity platform's OpenID configuration
// endpoint (https://login.microsoftonline.com/{domain}/v2.0/.well-known/
// openid-configuration): the issuer names the domain's tenant; a domain it
// does not know gets AADSTS90002's 400.
type identity struct {
	mu      sync.Mutex
	tenants map[string]string
	asked   map[string]int
}

func (p *identity) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	domain, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/v2.0/.well-known/openid-configuration")
	p.mu.Lock()
	p.asked[domain]++
	tid := p.tenants[domain]
	p.mu.Unlock()
	switch {
	case !ok || r.Method != http.MethodGet:
		http.NotFound(w, r)
	case tid == "":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_tenant","error_description":"AADSTS90002: Tenant not found.","error_codes":[90002]}`)
	default:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":"https://login.microsoftonline.com/%s/v2.0","token_endpoint":"https://login.microsoftonline.com/%s/oauth2/v2.0/token","jwks_uri":"https://login.microsoftonline.com/%s/discovery/v2.0/keys"}`, tid, tid, tid)
	}
}

func (p *identity) lookups(domain string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.asked[domain]
}

// With the tenant/domain check on (template parameters, as deployed), the
// real ValidateFunction asks the identity platform: a domain of another
// tenant, or of none, ends Rejected (tenant_domain_mismatch) with its
// notice to the partner; a matching one proceeds to the customer. Then the
// whole table is scanned: the customer's link token, read back from SES,
// is stored nowhere, only its SHA-256. Every status change reaches the
// partner's webhook, signed.
func TestJourneyWithTenantCheck(t *testing.T) {
	stamp := time.Now().UnixNano() % 1e9
	tid := func(n int) string { return fmt.Sprintf("%08d-2222-4222-8222-%012d", n, stamp) }
	matching, other, unknown := fmt.Sprintf("match%d.onmicrosoft.com", stamp), fmt.Sprintf("other%d.onmicrosoft.com", stamp), fmt.Sprintf("nobody%d.example", stamp)
	// The partner's own mailbox domain, a tenant of its own: a contact there
	// is not the customer.
	partnerOwn := fmt.Sprintf("fabrikam%d.example", stamp)
	idp := &identity{asked: map[string]int{}, tenants: map[string]string{
		matching:   strings.ToUpper(tid(1)), // the platform's case is not the claim's
		other:      tid(9),
		partnerOwn: tid(8),
	}}
	srv := httptest.NewServer(idp)
	defer srv.Close()
	r, db := ownRunner(t, "tenant", map[string]string{"TenantLookupEnabled": "true", "TenantLookupBaseUrl": srv.URL})
	defer apitest.Use(r)()

	u := apitest.NewUser(t, "tenant-fabrikam", true)
	sub := "user@tenant-fabrikam.example"
	hook := hookFor(t, &u)
	// claimFor's customer contact is at a domain of the claimed tenant
	// (registered here), unless contactDomain names another.
	claimFor := func(tag, tenantID, domain string, contactDomain ...string) (id, partnerMail, customerMail string) {
		partnerMail = fmt.Sprintf("pat.%s.%d@fabrikam.example", tag, stamp)
		customerMail = fmt.Sprintf("ana.%s.%d@contact-%s", tag, stamp, domain)
		if len(contactDomain) > 0 {
			customerMail = fmt.Sprintf("ana.%s.%d@%s", tag, stamp, contactDomain[0])
		} else {
			idp.mu.Lock()
			idp.tenants["contact-"+domain] = tenantID
			idp.mu.Unlock()
		}
		id = withBody(t, &u, func(b map[string]any) {
			b["name"] = markupName
			b["customer"] = map[string]any{"tenantId": tenantID, "domain": domain, "name": "Contoso"}
			b["partnerContact"] = map[string]any{"name": markupContact, "email": partnerMail}
			b["customerContact"] = map[string]any{"name": "Ana", "title": "CIO", "email": customerMail}
		})
		submitWith(t, &u, id, apitest.PDF)
		return id, partnerMail, customerMail
	}
	good, _, goodCustomer := claimFor("match", tid(1), matching)
	wrong, wrongPartner, wrongCustomer := claimFor("other", tid(2), other)
	none, nonePartner, _ := claimFor("none", tid(3), unknown)
	// The customer's domain is right, but the notice would go to the
	// partner's own mailbox (another tenant), or to a domain of no tenant.
	redirected, redirectedPartner, redirectedMail := claimFor("redirected", tid(1), matching, partnerOwn)
	nowhere, nowherePartner, nowhereMail := claimFor("nowhere", tid(1), matching, "nowhere"+unknown)

	steps := []string{"created >Draft partner", "evidence_added Draft>Draft partner", "submitted Draft>Submitted partner"}
	for _, c := range []struct{ id, domain, partner string }{{wrong, other, wrongPartner}, {none, unknown, nonePartner}} {
		got := apitest.WaitStatus(t, &u, c.id, "Rejected")
		sr := got["statusReason"].(map[string]any)
		if sr["code"] != "tenant_domain_mismatch" {
			t.Fatalf("%s: reason %v, want tenant_domain_mismatch", c.domain, sr)
		}
		if n := idp.lookups(c.domain); n < 1 {
			t.Fatalf("%s was never looked up", c.domain)
		}
		wantHistory(t, &u, c.id, sub, append(steps, "rejected Submitted>Rejected system")...)
		subject := `Claim "` + markupName + `": rejected`
		partnerMail(t, "tenant mismatch", awaitMails(t, c.partner, subject)[subject], c.partner, c.domain, "Reason: "+sr["message"].(string))
	}
	for _, c := range []struct{ id, partner, customer, domain string }{
		{redirected, redirectedPartner, redirectedMail, partnerOwn}, {nowhere, nowherePartner, nowhereMail, "nowhere" + unknown}} {
		got := apitest.WaitStatus(t, &u, c.id, "Rejected")
		sr := got["statusReason"].(map[string]any)
		if sr["code"] != "contact_not_in_tenant" || !strings.Contains(sr["message"].(string), c.domain) {
			t.Fatalf("contact at %s: reason %v, want contact_not_in_tenant naming the domain", c.domain, sr)
		}
		if n := idp.lookups(c.domain); n < 1 {
			t.Fatalf("the contact's domain %s was never looked up", c.domain)
		}
		wantHistory(t, &u, c.id, sub, append(steps, "rejected Submitted>Rejected system")...)
		subject := `Claim "` + markupName + `": rejected`
		partnerMail(t, "contact not in tenant", awaitMails(t, c.partner, subject)[subject], c.partner, "Reason: "+sr["message"].(string))
		if n := len(mailsTo(t, c.customer)); n != 0 {
			t.Fatalf("the contact outside the tenant (%s) got %d emails", c.customer, n)
		}
	}
	if got := apitest.WaitStatus(t, &u, good, "PendingCustomer"); got["statusReason"] != nil || got["optOutDeadline"] == nil {
		t.Fatalf("matching domain: %v", got)
	}
	if idp.lookups(matching) < 1 {
		t.Fatalf("%s was never looked up", matching)
	}
	wantHistory(t, &u, good, sub, append(steps, "customer_notified Submitted>PendingCustomer system")...)
	if n := len(mailsTo(t, wrongCustomer)); n != 0 {
		t.Fatalf("the customer of a mismatched claim got %d emails", n)
	}
	// Every status change, rejections included, reached the partner's
	// webhook, signed.
	checkWebhooks(t, time.Minute, map[string]journeyHook{good: hook, wrong: hook, none: hook, redirected: hook, nowhere: hook})

	t.Run("the clear token is stored nowhere", func(t *testing.T) {
		link := customerLink(t, goodCustomer)
		token := link[strings.LastIndex(link, "/")+1:]
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(token))
		hash := hex.EncodeToString(sum[:])
		// The token in every form it could have been written in.
		forms := []string{token, hex.EncodeToString(raw), base64.StdEncoding.EncodeToString(raw), base64.RawStdEncoding.EncodeToString(raw), base64.URLEncoding.EncodeToString(raw)}
		var items, hashed int
		var in map[string]types.AttributeValue
		for {
			out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: &r.Resources().TableName, ConsistentRead: aws.Bool(true), ExclusiveStartKey: in})
			if err != nil {
				t.Fatal(err)
			}
			for _, item := range out.Items {
				items++
				pk := item["pk"].(*types.AttributeValueMemberS).Value
				if pk == "TOKEN#"+hash {
					hashed++
					if id := item["claimId"].(*types.AttributeValueMemberS).Value; id != good {
						t.Errorf("the token's item names claim %s, want %s", id, good)
					}
				}
				walk(item, func(path string, s []byte) {
					for _, f := range append(forms, string(raw)) {
						if bytes.Contains(s, []byte(f)) {
							t.Errorf("item %s holds the clear token at %s", pk, path)
						}
					}
				})
			}
			if in = out.LastEvaluatedKey; len(in) == 0 {
				break
			}
		}
		if hashed != 1 || items < 10 {
			t.Fatalf("%d items scanned, %d token items keyed by the SHA-256: want one", items, hashed)
		}
	})
}

// walk calls f with every string, number and binary value of an item,
// nested ones included, and its path.
func walk(item map[string]types.AttributeValue, f func(path string, s []byte)) {
	var visit func(path string, v types.AttributeValue)
	visit = func(path string, v types.AttributeValue) {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			f(path, []byte(v.Value))
		case *types.AttributeValueMemberN:
			f(path, []byte(v.Value))
		case *types.AttributeValueMemberB:
			f(path, v.Value)
		case *types.AttributeValueMemberSS:
			for i, s := range v.Value {
				f(fmt.Sprintf("%s[%d]", path, i), []byte(s))
			}
		case *types.AttributeValueMemberBS:
			for i, b := range v.Value {
				f(fmt.Sprintf("%s[%d]", path, i), b)
			}
		case *types.AttributeValueMemberL:
			for i, e := range v.Value {
				visit(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case *types.AttributeValueMemberM:
			for k, e := range v.Value {
				f(path+"."+k+" (name)", []byte(k))
				visit(path+"."+k, e)
			}
		}
	}
	for k, v := range item {
		f(k+" (name)", []byte(k))
		visit(k, v)
	}
}
