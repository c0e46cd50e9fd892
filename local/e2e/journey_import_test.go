package e2e_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cpor-claims/claims/local/apitest"
	"github.com/cpor-claims/claims/local/testenv"
	"github.com/cpor-claims/claims/shared/awsclient"
	"github.com/cpor-claims/claims/shared/imports"
)

// pathWithID fills a route's {id}: an import's for the import routes, the
// claim's otherwise.
func pathWithID(t *testing.T, u *apitest.User, path, claimID string) string {
	t.Helper()
	id := claimID
	if strings.HasPrefix(path, "/imports/{id}") {
		id = apitest.Expect(t, apitest.Call(t, u, "POST", "/imports", map[string]any{"fileName": "claims.csv", "size": 10}), 201).
			JSON(t)["import"].(map[string]any)["id"].(string)
	}
	return strings.ReplaceAll(path, "{id}", id)
}

// uploadImport starts an import and uploads content through its presigned
// POST, as a browser would; processing then starts by itself.
func uploadImport(t *testing.T, u *apitest.User, content []byte) string {
	t.Helper()
	r := apitest.Expect(t, apitest.Call(t, u, "POST", "/imports", map[string]any{"fileName": "claims.csv", "size": len(content)}), 201)
	out := r.JSON(t)
	im := out["import"].(map[string]any)
	if im["status"] != "AwaitingUpload" {
		t.Fatalf("new import %v", im)
	}
	if status := apitest.PostUpload(t, out["upload"].(map[string]any), "claims.csv", content); status >= 300 {
		t.Fatalf("upload refused: %d", status)
	}
	return im["id"].(string)
}

func waitImport(t *testing.T, u *apitest.User, id string, statuses ...string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		im := apitest.Expect(t, apitest.Call(t, u, "GET", "/imports/"+id, nil), 200).JSON(t)
		if slices.Contains(statuses, im["status"].(string)) {
			return im
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %s stayed %v, want %v", id, im, statuses)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// importFile is a CSV with the template's header and rows given by column.
func importFile(rows ...map[string]string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	cols := imports.Columns()
	_ = w.Write(cols)
	for _, m := range rows {
		if cells, ok := m["#cells"]; ok { // a row with its own cells
			_ = w.Write(strings.Split(cells, "|"))
			continue
		}
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = m[c]
		}
		_ = w.Write(cells)
	}
	w.Flush()
	return b.Bytes()
}

func validRow(tenant, name string) map[string]string {
	return map[string]string{
		"name": name, "mpnId": "1234567", "customer.tenantId": tenant, "customer.domain": "contoso.onmicrosoft.com",
		"solutionArea": "Microsoft365", "activity": "Usage", "products": "teams;exchange-online",
	}
}

// A file mixing valid rows, rows with several broken values, a duplicate
// row, markup and formulas: processing starts by itself on upload; each
// valid row is a Draft with its import and row in the history; each
// broken value is one line of the errors CSV; the same notification
// delivered again, even after a crash that lost the progress, creates
// nothing twice.
func TestImportJourney(t *testing.T) {
	u := apitest.NewUser(t, fmt.Sprintf("import-%d", time.Now().UnixNano()), true)
	stranger := apitest.NewUser(t, "import-stranger", true)

	tpl := apitest.Expect(t, apitest.Call(t, &u, "GET", "/imports/template.csv", nil), 200)
	if ct := tpl.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("template content type %q", ct)
	}
	recs, err := csv.NewReader(bytes.NewReader(tpl.Body)).ReadAll()
	if err != nil || len(recs) != 2 || !slices.Equal(recs[0], imports.Columns()) {
		t.Fatalf("template: %v %q", err, tpl.Body)
	}

	t1, t2 := apitest.NewTenant(), apitest.NewTenant()
	markup := `<b>Contoso</b> & "Partners" <script>alert(1)</script>`
	first := validRow(t1, markup)
	first["comments"] = "line one\nline two"
	formula := validRow(t2, `=HYPERLINK("http://evil.example","click")`)
	broken := map[string]string{
		"mpnId": "7654321", "customer.tenantId": "not-a-guid", "customer.domain": "bad domain",
		"solutionArea": "Microsoft365", "activity": "RevenueAssociation", "customerContact.email": "nope",
	}
	formulas := map[string]string{
		"mpnId": "=1+1", "customer.tenantId": "+" + apitest.NewTenant(), "customer.domain": "@evil",
		"solutionArea": "Microsoft365", "activity": "Usage", "products": "-teams:a:b",
	}
	file := importFile(
		first,                                // row 2: valid
		broken,                               // row 3: five broken values
		first,                                // row 4: repeats row 2
		formula,                              // row 5: valid, a formula kept as text
		formulas,                             // row 6: broken values starting with = + @ -
		map[string]string{"#cells": "a|b|c"}, // row 7: three cells
	)
	id := uploadImport(t, &u, file)
	im := waitImport(t, &u, id, "Completed", "Failed")
	if im["status"] != "Completed" || im["total"].(float64) != 6 || im["succeeded"].(float64) != 2 || im["failed"].(float64) != 4 || im["completedAt"] == nil || im["failure"] != nil {
		t.Fatalf("import %v", im)
	}

	// The errors: one line per broken value, rows as a spreadsheet counts them.
	er := apitest.Expect(t, apitest.Call(t, &u, "GET", "/imports/"+id+"/errors", nil), 200)
	if ct := er.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("errors content type %q", ct)
	}
	lines, err := csv.NewReader(bytes.NewReader(er.Body)).ReadAll()
	if err != nil || len(lines) < 2 || !slices.Equal(lines[0], []string{"row", "field", "code", "message"}) {
		t.Fatalf("errors CSV: %v %q", err, er.Body)
	}
	byRow := map[string][]string{}
	for _, l := range lines[1:] {
		byRow[l[0]] = append(byRow[l[0]], l[1]+"/"+l[2])
		for _, cell := range l {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("unsafe cell %q in %q", cell, l)
			}
		}
	}
	want3 := []string{"mpnId/invalid_input", "customer.tenantId/invalid_input", "customer.domain/invalid_input", "activity/invalid_input", "customerContact.email/invalid_input"}
	if !slices.Equal(byRow["3"], want3) {
		t.Errorf("row 3: %v, want %v", byRow["3"], want3)
	}
	if !slices.Equal(byRow["4"], []string{"row/duplicate_row"}) {
		t.Errorf("row 4: %v", byRow["4"])
	}
	if len(byRow["6"]) < 4 {
		t.Errorf("row 6: %v, want a line per broken value", byRow["6"])
	}
	if !slices.Equal(byRow["7"], []string{"row/wrong_cell_count"}) {
		t.Errorf("row 7: %v", byRow["7"])
	}
	if byRow["2"] != nil || byRow["5"] != nil || len(byRow) != 4 {
		t.Errorf("errors of rows %v", byRow)
	}

	// The Drafts: text kept as given, the import in their history.
	claims := func(tenant string) []any {
		return apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims?limit=100&tenantId="+tenant, nil), 200).JSON(t)["items"].([]any)
	}
	c1, c2 := claims(t1), claims(t2)
	if len(c1) != 1 || len(c2) != 1 {
		t.Fatalf("claims for the two valid rows: %d and %d", len(c1), len(c2))
	}
	d := c1[0].(map[string]any)
	if d["status"] != "Draft" || d["name"] != markup || d["comments"] != "line one\nline two" || len(d["products"].([]any)) != 2 {
		t.Fatalf("draft %v", d)
	}
	if n := c2[0].(map[string]any)["name"]; n != formula["name"] {
		t.Fatalf("formula name stored as %q", n)
	}
	hist := apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims/"+d["id"].(string)+"/history", nil), 200).JSON(t)["items"].([]any)
	if len(hist) != 1 || !jsonEqual(hist[0].(map[string]any)["detail"], map[string]any{"importId": id, "row": "2"}) {
		t.Fatalf("history %v", hist)
	}
	all := len(apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims?limit=100", nil), 200).JSON(t)["items"].([]any))

	// The same notification again, delivered to the function: nothing moves.
	res := rt.Resources()
	cfg := testenv.AWSConfig(t)
	ctx := context.Background()
	head, err := awsclient.S3(cfg).HeadObject(ctx, &s3.HeadObjectInput{Bucket: &res.BucketName, Key: aws.String(imports.Key(id))})
	if err != nil {
		t.Fatal(err)
	}
	note, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventName": "ObjectCreated:Post",
		"s3": map[string]any{"bucket": map[string]any{"name": res.BucketName}, "object": map[string]any{"key": imports.Key(id), "size": len(file), "eTag": strings.Trim(aws.ToString(head.ETag), `"`)}},
	}}})
	invokeImport(t, string(note))
	// A crash after the rows were written but before their progress was:
	// the import is back at its first row without counts, and the same
	// notification comes again through the queue.
	_, err = awsclient.DynamoDB(cfg).UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &res.TableName,
		Key:                      map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "IMPORT#" + id}, "sk": &ddbtypes.AttributeValueMemberS{Value: "META"}},
		UpdateExpression:         aws.String("SET #st = :p, nextRow = :two, succeeded = :z, #f = :z, #t = :z REMOVE completedAt"),
		ExpressionAttributeNames: map[string]string{"#st": "status", "#t": "total", "#f": "failed"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":p": &ddbtypes.AttributeValueMemberS{Value: "Processing"}, ":two": &ddbtypes.AttributeValueMemberN{Value: "2"},
			":z": &ddbtypes.AttributeValueMemberN{Value: "0"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := awsclient.SQS(cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(res.Refs["ImportQueue"]), MessageBody: aws.String(string(note))}); err != nil {
		t.Fatal(err)
	}
	again := waitImport(t, &u, id, "Completed")
	for _, k := range []string{"total", "succeeded", "failed"} {
		if again[k] != im[k] {
			t.Fatalf("after the redelivery: %v, before %v", again, im)
		}
	}
	if n := len(apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims?limit=100", nil), 200).JSON(t)["items"].([]any)); n != all || len(claims(t1)) != 1 || len(claims(t2)) != 1 {
		t.Fatalf("after the redelivery: %d claims, before %d", n, all)
	}
	er2 := apitest.Expect(t, apitest.Call(t, &u, "GET", "/imports/"+id+"/errors", nil), 200)
	if !bytes.Equal(er2.Body, er.Body) {
		t.Fatalf("errors changed:\n%s\nbefore\n%s", er2.Body, er.Body)
	}

	// The partner's list shows it; another partner sees nothing of it.
	list := apitest.Expect(t, apitest.Call(t, &u, "GET", "/imports?limit=10", nil), 200).JSON(t)["items"].([]any)
	if len(list) == 0 || list[0].(map[string]any)["id"] != id {
		t.Fatalf("imports %v", list)
	}
	for _, p := range []string{"/imports/" + id, "/imports/" + id + "/errors"} {
		if r := apitest.Call(t, &stranger, "GET", p, nil); r.Status != 404 || r.Code(t) != "not_found" {
			t.Fatalf("%s for another partner: %d %s", p, r.Status, r.Body)
		}
	}
	for _, l := range apitest.Expect(t, apitest.Call(t, &stranger, "GET", "/imports?limit=100", nil), 200).JSON(t)["items"].([]any) {
		if l.(map[string]any)["id"] == id {
			t.Fatal("another partner lists the import")
		}
	}
}

func invokeImport(t *testing.T, body string) {
	t.Helper()
	ev, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{"messageId": "redelivered-1", "body": body, "eventSource": "aws:sqs"}}})
	resp, err := http.Post(apitest.Base+"/2015-03-31/functions/ImportFunction/invocations", "application/json", bytes.NewReader(ev))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		BatchItemFailures []any `json:"batchItemFailures"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || len(out.BatchItemFailures) > 0 {
		t.Fatalf("invoke: %d %v %+v", resp.StatusCode, err, out)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// A file that is not UTF-8 CSV, has another header or more than 1,000
// rows is Failed, says which, and creates nothing.
func TestImportRefusedFiles(t *testing.T) {
	many := make([]map[string]string, 1001)
	for i := range many {
		many[i] = validRow(apitest.NewTenant(), fmt.Sprintf("row %d", i))
	}
	cases := []struct {
		name    string
		file    []byte
		failure string
	}{
		{"another header", bytes.Replace(importFile(validRow(apitest.NewTenant(), "x")), []byte("mpnId"), []byte("mpn"), 1), "header is not the template's"},
		{"not UTF-8", importFile(validRow(apitest.NewTenant(), "ok"), validRow(apitest.NewTenant(), "Soci\xe9t\xe9 G\xe9n\xe9rale")), "not UTF-8"},
		{"1,001 rows", importFile(many...), "more than 1000 rows"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := apitest.NewUser(t, fmt.Sprintf("import-refused-%d", time.Now().UnixNano()), true)
			id := uploadImport(t, &u, c.file)
			im := waitImport(t, &u, id, "Completed", "Failed")
			if im["status"] != "Failed" || !strings.Contains(fmt.Sprint(im["failure"]), c.failure) || im["succeeded"].(float64) != 0 {
				t.Fatalf("import %v, want Failed with %q", im, c.failure)
			}
			if n := len(apitest.Expect(t, apitest.Call(t, &u, "GET", "/claims?limit=100", nil), 200).JSON(t)["items"].([]any)); n != 0 {
				t.Fatalf("a refused file created %d claims", n)
			}
		})
	}
}
