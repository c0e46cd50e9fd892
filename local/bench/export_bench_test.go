package bench_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cpor-claims/claims/local/bench"
	"github.com/cpor-claims/claims/shared/api"
	"github.com/cpor-claims/claims/shared/claim"
	"github.com/cpor-claims/claims/shared/claim/claimtest"
	"github.com/cpor-claims/claims/shared/httpapi"
)

// lambdaResponseLimit is Lambda's limit on a synchronous response (6 MB).
const lambdaResponseLimit = 6 * 1024 * 1024

// BenchmarkCSVExport: GET /claims with Accept: text/csv, one full page of
// 5,000 claims (every field filled, long comments), through the handler
// against DynamoDB Local: the size of the Lambda response (the payload 2.0
// JSON the function returns, CSV body inside) and the time to answer it.
func BenchmarkCSVExport(b *testing.B) {
	f := setup(b)
	ctx := context.Background()
	const n = httpapi.MaxCSVRows
	const owner = "bench-csv-partner"
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	parallel(b, 16, n, func(i int) error {
		c := claimtest.Complete(owner, fmt.Sprintf("%08x-86f1-41af-91ab-2d7cd011db47", i), at.Add(time.Duration(i)*time.Second))
		c.Products = []claim.ProductRef{{ID: "teams"}, {ID: "exchange-online"}, {ID: "sharepoint-online"}}
		c.Comments = strings.Repeat("Rollout of Teams for 2,000 seats, with training; ", 6)
		c.TechnicalContact = &claim.Contact{Name: "Tom Admin", Title: "IT lead", Email: "tom@contoso.example"}
		return f.st.Create(ctx, c, claim.Event{At: c.CreatedAt, Action: claim.ActionCreated})
	})
	claims := map[string]string{}
	for k, v := range adminClaims {
		claims[k] = v
	}
	claims["partner_id"] = owner
	req := request(api.RouteListClaims, "/claims", "", nil, map[string]string{"accept": "text/csv"})
	req.RequestContext.Authorizer.JWT.Claims = claims
	req.RawQueryString = "limit=5000"
	req.QueryStringParameters = map[string]string{"limit": "5000"}
	// The raw baseline: the same Query, paged by DynamoDB (1 MB a page)
	// until 5,000 items, as the handler issues it.
	if resp, err := f.history.Serve(ctx, req); err != nil || resp.StatusCode != 200 {
		b.Fatalf("%d %v", resp.StatusCode, err)
	}
	qin := *f.db.q.Load()
	rawQuery := func() {
		in := qin
		in.ExclusiveStartKey = nil
		got := 0
		for got < n {
			in.Limit = aws.Int32(int32(n - got))
			out, err := f.db.Client.Query(ctx, &in)
			if err != nil {
				b.Fatal(err)
			}
			got += len(out.Items)
			if out.LastEvaluatedKey == nil {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	var times, raws []time.Duration
	var size, bodySize int
	for b.Loop() {
		rs := time.Now()
		rawQuery()
		raws = append(raws, time.Since(rs))
		start := time.Now()
		resp, err := f.history.Serve(ctx, req)
		d := time.Since(start)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("%d %v %s", resp.StatusCode, err, resp.Body)
		}
		out, err := json.Marshal(resp)
		if err != nil {
			b.Fatal(err)
		}
		recs, err := csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
		if err != nil || len(recs) != n+1 {
			b.Fatalf("%d records, %v", len(recs), err)
		}
		times = append(times, d)
		size, bodySize = len(out), len(resp.Body)
	}
	med, raw := bench.Median(times), bench.Median(raws)
	b.ReportMetric(float64(size)/1e6, "response-MB")
	b.ReportMetric(float64(med)/1e6, "ms")
	bench.Record(bench.Figure{Section: "CSV export", Name: "5,000 claims as CSV (GET /claims, Accept: text/csv)",
		Value: fmt.Sprintf("%.2f MB in %s", float64(size)/1e6, bench.Ms(med)), Versus: bench.Ms(raw) + " (the Query pages alone)",
		Ratio: fmt.Sprintf("%.2fx", float64(med)/float64(raw)), Goal: "≤ 6 MB (Lambda response)", Met: size <= lambdaResponseLimit,
		Note: fmt.Sprintf("the Lambda response (payload 2.0 JSON, the %.2f MB CSV body inside); every field filled, 3 products, ~300-character comments; handler in process against DynamoDB Local; n=%d", float64(bodySize)/1e6, b.N)})
}
