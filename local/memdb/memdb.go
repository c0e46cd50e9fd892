// Package memdb is the in-memory DynamoDB of the fast test tier (`make
// unit`, `go test -short`): the template's tables, created from the same
// CreateTable request the local stack sends DynamoDB Local, answering the
// part of the DynamoDB API the store uses (store.DB) as DynamoDB does:
// condition expressions, TransactWriteItems all-or-nothing with one
// CancellationReason per item (ConditionalCheckFailed with the old item when
// asked, None for the others), Query on the table and its GSIs (key
// conditions, order, Limit, ExclusiveStartKey, filters, projections),
// update expressions, batches, and DynamoDB's validation of expression
// names and values. Every call is atomic (one lock).
//
// It is test support: no function imports it. shared/store's tests are its
// contract: each of them runs on DynamoDB Local and on this DB (make test
// runs both, -short only this one), so the two cannot drift apart.
//
// minidyn (github.com/truora/minidyn, v0.8.2) was tried first and failed
// that contract: items holding an empty list fail every later expression,
// a missing item is read as an empty one, and a Query's last page still
// carries a LastEvaluatedKey.
package memdb

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cpor-claims/claims/local/samtemplate"
	"github.com/cpor-claims/claims/local/stack"
	"github.com/cpor-claims/claims/shared/store"
)

// DB is an in-memory DynamoDB holding the template's tables.
type DB struct {
	mu     sync.Mutex
	tables map[string]*table
	// Tables maps each table's logical id in template.yaml to its name.
	Tables map[string]string
}

var _ store.DB = (*DB)(nil)

type keySchema struct{ hash, rng string }

type index struct {
	name string
	keys keySchema
	// projection: ALL, KEYS_ONLY, or INCLUDE with include.
	projection string
	include    []string
}

type table struct {
	name    string
	keys    keySchema
	types   map[string]types.ScalarAttributeType
	indexes map[string]*index
	items   map[string]item
}

// New creates every table of tmpl, each named prefix-<logical id>, in a new
// in-memory DynamoDB.
func New(tmpl *samtemplate.Template, prefix string) (*DB, error) {
	db := &DB{tables: map[string]*table{}, Tables: map[string]string{}}
	for _, tb := range tmpl.Tables() {
		name := prefix + "-" + tb.ID
		if err := db.CreateTable(stack.TableInput(name, tb)); err != nil {
			return nil, fmt.Errorf("memdb: table %s: %w", tb.ID, err)
		}
		db.Tables[tb.ID] = name
	}
	return db, nil
}

func schemaOf(ks []types.KeySchemaElement) keySchema {
	var s keySchema
	for _, k := range ks {
		switch k.KeyType {
		case types.KeyTypeHash:
			s.hash = aws.ToString(k.AttributeName)
		case types.KeyTypeRange:
			s.rng = aws.ToString(k.AttributeName)
		}
	}
	return s
}

// CreateTable creates a table with its global secondary indexes.
func (db *DB) CreateTable(in *dynamodb.CreateTableInput) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	name := aws.ToString(in.TableName)
	if _, ok := db.tables[name]; ok {
		return &types.ResourceInUseException{Message: aws.String("Cannot create preexisting table")}
	}
	t := &table{name: name, keys: schemaOf(in.KeySchema), types: map[string]types.ScalarAttributeType{},
		indexes: map[string]*index{}, items: map[string]item{}}
	for _, d := range in.AttributeDefinitions {
		t.types[aws.ToString(d.AttributeName)] = d.AttributeType
	}
	if t.keys.hash == "" {
		return validation("no HASH key")
	}
	for _, g := range in.GlobalSecondaryIndexes {
		ix := &index{name: aws.ToString(g.IndexName), keys: schemaOf(g.KeySchema), projection: "ALL"}
		if g.Projection != nil {
			ix.projection = string(g.Projection.ProjectionType)
			ix.include = g.Projection.NonKeyAttributes
		}
		t.indexes[ix.name] = ix
	}
	for _, k := range []string{t.keys.hash, t.keys.rng} {
		if k != "" && t.types[k] == "" {
			return validation("key attribute %s has no definition", k)
		}
	}
	db.tables[name] = t
	return nil
}

func (db *DB) table(name *string) (*table, error) {
	t, ok := db.tables[aws.ToString(name)]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Cannot do operations on a non-existent table")}
	}
	return t, nil
}

// keyString names an item by its primary key; err when the key is not the
// table's (missing, extra or wrongly typed attributes).
func (t *table) keyString(key item, exact bool) (string, error) {
	var parts []string
	for _, k := range []string{t.keys.hash, t.keys.rng} {
		if k == "" {
			continue
		}
		v, ok := key[k]
		if !ok {
			return "", validation("The provided key element does not match the schema")
		}
		s, err := t.scalar(k, v)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	if exact && len(key) != len(parts) {
		return "", validation("The provided key element does not match the schema")
	}
	return strings.Join(parts, "\x00"), nil
}

// scalar checks a key attribute's type and that it is not empty.
func (t *table) scalar(name string, v types.AttributeValue) (string, error) {
	var s string
	var typ types.ScalarAttributeType
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		s, typ = x.Value, types.ScalarAttributeTypeS
	case *types.AttributeValueMemberN:
		s, typ = x.Value, types.ScalarAttributeTypeN
	case *types.AttributeValueMemberB:
		s, typ = string(x.Value), types.ScalarAttributeTypeB
	}
	if typ == "" || typ != t.types[name] {
		return "", validation("One or more parameter values were invalid: Type mismatch for key %s expected: %s", name, t.types[name])
	}
	if s == "" {
		return "", validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s", name)
	}
	if typ == types.ScalarAttributeTypeN {
		r, err := parseNumber(s)
		if err != nil {
			return "", err
		}
		s = formatNumber(r)
	}
	return s, nil
}

// checkItem refuses an item DynamoDB would: a bad primary key, an index key
// attribute of the wrong type or empty, an invalid value.
func (t *table) checkItem(it item) (string, error) {
	k, err := t.keyString(it, false)
	if err != nil {
		return "", err
	}
	for _, ix := range t.indexes {
		for _, a := range []string{ix.keys.hash, ix.keys.rng} {
			if v, ok := it[a]; ok && a != "" {
				if _, err := t.scalar(a, v); err != nil {
					return "", err
				}
			}
		}
	}
	for name, v := range it {
		if err := checkValue(name, v); err != nil {
			return "", err
		}
	}
	return k, nil
}

func (t *table) keyOf(it item) item {
	k := item{t.keys.hash: it[t.keys.hash]}
	if t.keys.rng != "" {
		k[t.keys.rng] = it[t.keys.rng]
	}
	return k
}

func noExpressionValues(names map[string]string, values map[string]types.AttributeValue) error {
	if len(names) > 0 {
		return validation("ExpressionAttributeNames can only be specified when using expressions")
	}
	if len(values) > 0 {
		return validation("ExpressionAttributeValues can only be specified when using expressions")
	}
	return nil
}

// GetItem reads one item; Item is nil when there is none.
func (db *DB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	t, err := db.table(in.TableName)
	if err != nil {
		return nil, err
	}
	k, err := t.keyString(in.Key, true)
	if err != nil {
		return nil, err
	}
	r := newRefs(in.ExpressionAttributeNames, nil)
	proj, err := parseProjection(in.ProjectionExpression, r)
	if err != nil {
		return nil, err
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	it, ok := t.items[k]
	if !ok {
		return &dynamodb.GetItemOutput{}, nil
	}
	return &dynamodb.GetItemOutput{Item: project(it, proj)}, nil
}

func project(it item, names []string) item {
	if names == nil {
		return copyItem(it)
	}
	out := item{}
	for _, n := range names {
		if v, ok := it[n]; ok {
			out[n] = copyValue(v)
		}
	}
	return out
}

// write is one checked write: the item's key and its next state (nil: delete).
type write struct {
	t    *table
	key  string
	next item
}

// prepare checks one write's condition against the table as it is and
// computes the item it leaves; failed is the condition's refusal.
func (db *DB) prepare(tableName *string, key item, put item, upd *string, condExpr *string,
	names map[string]string, values map[string]types.AttributeValue, del bool) (w write, old item, failed bool, err error) {
	t, err := db.table(tableName)
	if err != nil {
		return write{}, nil, false, err
	}
	var k string
	if put != nil {
		k, err = t.checkItem(put)
	} else {
		k, err = t.keyString(key, true)
	}
	if err != nil {
		return write{}, nil, false, err
	}
	if aws.ToString(condExpr) == "" && aws.ToString(upd) == "" {
		if err := noExpressionValues(names, values); err != nil {
			return write{}, nil, false, err
		}
	}
	r := newRefs(names, values)
	var u *update
	if aws.ToString(upd) != "" {
		if u, err = parseUpdate(*upd, r); err != nil {
			return write{}, nil, false, err
		}
	}
	var c cond
	if aws.ToString(condExpr) != "" {
		if c, err = parseCond(*condExpr, r); err != nil {
			return write{}, nil, false, err
		}
	}
	if err := r.check(); err != nil {
		return write{}, nil, false, err
	}
	old = t.items[k]
	if c != nil {
		ok, err := c.eval(old)
		if err != nil {
			return write{}, nil, false, err
		}
		if !ok {
			return write{t: t, key: k}, old, true, nil
		}
	}
	w = write{t: t, key: k}
	switch {
	case put != nil:
		w.next = copyItem(put)
	case del:
	default:
		base := old
		if base == nil {
			base = copyItem(key)
		}
		if u == nil {
			w.next = copyItem(base)
			break
		}
		next, err := u.apply(base)
		if err != nil {
			return write{}, nil, false, err
		}
		for _, a := range []string{t.keys.hash, t.keys.rng} {
			if a != "" && !equal(next[a], key[a]) {
				return write{}, nil, false, validation("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", a)
			}
		}
		if _, err := t.checkItem(next); err != nil {
			return write{}, nil, false, err
		}
		w.next = next
	}
	return w, old, false, nil
}

func (w write) apply() {
	if w.next == nil {
		delete(w.t.items, w.key)
		return
	}
	w.t.items[w.key] = w.next
}

func conditionFailed(old item, rv types.ReturnValuesOnConditionCheckFailure) error {
	e := &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	if rv == types.ReturnValuesOnConditionCheckFailureAllOld && old != nil {
		e.Item = copyItem(old)
	}
	return e
}

// PutItem writes one item under its condition.
func (db *DB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if in.ReturnValues != "" && in.ReturnValues != types.ReturnValueNone {
		return nil, validation("memdb: PutItem ReturnValues %s is not supported", in.ReturnValues)
	}
	w, old, failed, err := db.prepare(in.TableName, nil, in.Item, nil, in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues, false)
	if err != nil {
		return nil, err
	}
	if failed {
		return nil, conditionFailed(old, in.ReturnValuesOnConditionCheckFailure)
	}
	w.apply()
	return &dynamodb.PutItemOutput{}, nil
}

// UpdateItem changes (or creates) one item under its condition.
func (db *DB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	w, old, failed, err := db.prepare(in.TableName, in.Key, nil, in.UpdateExpression, in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues, false)
	if err != nil {
		return nil, err
	}
	if failed {
		return nil, conditionFailed(old, in.ReturnValuesOnConditionCheckFailure)
	}
	out := &dynamodb.UpdateItemOutput{}
	switch in.ReturnValues {
	case "", types.ReturnValueNone:
	case types.ReturnValueAllNew:
		out.Attributes = copyItem(w.next)
	case types.ReturnValueAllOld:
		out.Attributes = copyItem(old)
	default:
		return nil, validation("memdb: UpdateItem ReturnValues %s is not supported", in.ReturnValues)
	}
	w.apply()
	return out, nil
}

// TransactWriteItems checks every item's condition against the table as it
// is, then writes all of them or none.
func (db *DB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	n := len(in.TransactItems)
	if n == 0 || n > 100 {
		return nil, validation("Member must have length less than or equal to 100 and greater than or equal to 1 (transactItems: %d)", n)
	}
	writes := make([]write, 0, n)
	reasons := make([]types.CancellationReason, n)
	canceled := false
	seen := map[string]bool{}
	for i, ti := range in.TransactItems {
		var (
			w      write
			old    item
			failed bool
			err    error
			rv     types.ReturnValuesOnConditionCheckFailure
			check  bool
		)
		switch {
		case ti.Put != nil:
			p := ti.Put
			rv = p.ReturnValuesOnConditionCheckFailure
			w, old, failed, err = db.prepare(p.TableName, nil, p.Item, nil, p.ConditionExpression, p.ExpressionAttributeNames, p.ExpressionAttributeValues, false)
		case ti.Update != nil:
			u := ti.Update
			rv = u.ReturnValuesOnConditionCheckFailure
			w, old, failed, err = db.prepare(u.TableName, u.Key, nil, u.UpdateExpression, u.ConditionExpression, u.ExpressionAttributeNames, u.ExpressionAttributeValues, false)
		case ti.Delete != nil:
			d := ti.Delete
			rv = d.ReturnValuesOnConditionCheckFailure
			w, old, failed, err = db.prepare(d.TableName, d.Key, nil, nil, d.ConditionExpression, d.ExpressionAttributeNames, d.ExpressionAttributeValues, true)
		case ti.ConditionCheck != nil:
			c := ti.ConditionCheck
			rv, check = c.ReturnValuesOnConditionCheckFailure, true
			if aws.ToString(c.ConditionExpression) == "" {
				return nil, validation("ConditionCheck needs a ConditionExpression")
			}
			w, old, failed, err = db.prepare(c.TableName, c.Key, nil, nil, c.ConditionExpression, c.ExpressionAttributeNames, c.ExpressionAttributeValues, false)
		default:
			return nil, validation("a transaction item needs one of Put, Update, Delete, ConditionCheck")
		}
		if err != nil {
			return nil, err
		}
		id := w.t.name + "\x01" + w.key
		if seen[id] {
			return nil, validation("Transaction request cannot include multiple operations on one item")
		}
		seen[id] = true
		reasons[i] = types.CancellationReason{Code: aws.String("None")}
		if failed {
			canceled = true
			reasons[i] = types.CancellationReason{Code: aws.String("ConditionalCheckFailed"), Message: aws.String("The conditional request failed")}
			if rv == types.ReturnValuesOnConditionCheckFailureAllOld && old != nil {
				reasons[i].Item = copyItem(old)
			}
			continue
		}
		if !check {
			writes = append(writes, w)
		}
	}
	if canceled {
		codes := make([]string, n)
		for i, r := range reasons {
			codes[i] = aws.ToString(r.Code)
		}
		return nil, &types.TransactionCanceledException{
			Message:             aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]"),
			CancellationReasons: reasons,
		}
	}
	for _, w := range writes {
		w.apply()
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

// BatchWriteItem puts and deletes up to 25 items, unconditionally; nothing
// is left unprocessed.
func (db *DB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	var writes []write
	total := 0
	seen := map[string]bool{}
	for name, reqs := range in.RequestItems {
		for _, r := range reqs {
			total++
			var (
				w   write
				err error
			)
			switch {
			case r.PutRequest != nil:
				w, _, _, err = db.prepare(aws.String(name), nil, r.PutRequest.Item, nil, nil, nil, nil, false)
			case r.DeleteRequest != nil:
				w, _, _, err = db.prepare(aws.String(name), r.DeleteRequest.Key, nil, nil, nil, nil, nil, true)
			default:
				return nil, validation("a write request needs PutRequest or DeleteRequest")
			}
			if err != nil {
				return nil, err
			}
			id := name + "\x01" + w.key
			if seen[id] {
				return nil, validation("Provided list of item keys contains duplicates")
			}
			seen[id] = true
			writes = append(writes, w)
		}
	}
	if total == 0 || total > 25 {
		return nil, validation("Member must have length less than or equal to 25 and greater than or equal to 1 (requests: %d)", total)
	}
	for _, w := range writes {
		w.apply()
	}
	return &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{}}, nil
}

// BatchGetItem reads up to 100 items; nothing is left unprocessed.
func (db *DB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}, UnprocessedKeys: map[string]types.KeysAndAttributes{}}
	total := 0
	for name, ka := range in.RequestItems {
		t, err := db.table(aws.String(name))
		if err != nil {
			return nil, err
		}
		r := newRefs(ka.ExpressionAttributeNames, nil)
		proj, err := parseProjection(ka.ProjectionExpression, r)
		if err != nil {
			return nil, err
		}
		if err := r.check(); err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, key := range ka.Keys {
			total++
			k, err := t.keyString(key, true)
			if err != nil {
				return nil, err
			}
			if seen[k] {
				return nil, validation("Provided list of item keys contains duplicates")
			}
			seen[k] = true
			if it, ok := t.items[k]; ok {
				out.Responses[name] = append(out.Responses[name], project(it, proj))
			}
		}
	}
	if total == 0 || total > 100 {
		return nil, validation("Too many items requested for the BatchGetItem call (%d)", total)
	}
	return out, nil
}

// Query reads one partition of the table or of an index, in sort key order.
func (db *DB) Query(ctx context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	t, err := db.table(in.TableName)
	if err != nil {
		return nil, err
	}
	keys := t.keys
	var ix *index
	if name := aws.ToString(in.IndexName); name != "" {
		if ix = t.indexes[name]; ix == nil {
			return nil, validation("The table does not have the specified index: %s", name)
		}
		if aws.ToBool(in.ConsistentRead) {
			return nil, validation("Consistent reads are not supported on global secondary indexes")
		}
		keys = ix.keys
	}
	if aws.ToString(in.KeyConditionExpression) == "" {
		return nil, validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	}
	if in.Limit != nil && *in.Limit < 1 {
		return nil, validation("Limit must be greater than or equal to 1")
	}
	r := newRefs(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	kc, err := parseCond(*in.KeyConditionExpression, r)
	if err != nil {
		return nil, err
	}
	hashVal, err := checkKeyCondition(kc, keys)
	if err != nil {
		return nil, err
	}
	var filter cond
	if aws.ToString(in.FilterExpression) != "" {
		if filter, err = parseCond(*in.FilterExpression, r); err != nil {
			return nil, err
		}
	}
	proj, err := parseProjection(in.ProjectionExpression, r)
	if err != nil {
		return nil, err
	}
	if err := r.check(); err != nil {
		return nil, err
	}

	// The partition's items that meet the key condition, in the index's
	// order; ties (an index's sort key shared by two items) in the table's
	// key order.
	var part []item
	for _, it := range t.items {
		hv, ok := it[keys.hash]
		if !ok || !equal(hv, hashVal) {
			continue
		}
		if keys.rng != "" {
			if _, ok := it[keys.rng]; !ok {
				continue // not in a sparse index
			}
		}
		ok, err := kc.eval(it)
		if err != nil {
			return nil, err
		}
		if ok {
			part = append(part, it)
		}
	}
	order := func(a, b item) int {
		for _, k := range []string{keys.rng, t.keys.hash, t.keys.rng} {
			if k == "" {
				continue
			}
			if n, _ := compare(a[k], b[k]); n != 0 {
				return n
			}
		}
		return 0
	}
	sort.Slice(part, func(i, j int) bool { return order(part[i], part[j]) < 0 })
	forward := in.ScanIndexForward == nil || *in.ScanIndexForward
	if !forward {
		slices.Reverse(part)
	}
	if in.ExclusiveStartKey != nil {
		start := in.ExclusiveStartKey
		if _, err := t.keyString(start, false); err != nil {
			return nil, validation("The provided starting key is invalid: %v", err)
		}
		i := 0
		for i < len(part) {
			n := order(part[i], start)
			if (forward && n > 0) || (!forward && n < 0) {
				break
			}
			i++
		}
		part = part[i:]
	}
	out := &dynamodb.QueryOutput{Items: []map[string]types.AttributeValue{}}
	for _, it := range part {
		if in.Limit != nil && out.ScannedCount == *in.Limit {
			break
		}
		out.ScannedCount++
		if in.Limit != nil && out.ScannedCount == *in.Limit {
			// DynamoDB stops at Limit and says where, more items or not.
			last := t.keyOf(it)
			if ix != nil {
				last[ix.keys.hash] = copyValue(it[ix.keys.hash])
				if ix.keys.rng != "" {
					last[ix.keys.rng] = copyValue(it[ix.keys.rng])
				}
			}
			out.LastEvaluatedKey = last
		}
		if filter != nil {
			ok, err := filter.eval(it)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		out.Items = append(out.Items, project(projectIndex(it, t, ix), proj))
	}
	out.Count = int32(len(out.Items))
	return out, nil
}

// projectIndex is the item as the index holds it.
func projectIndex(it item, t *table, ix *index) item {
	if ix == nil || ix.projection == "ALL" || ix.projection == "" {
		return it
	}
	names := []string{t.keys.hash, ix.keys.hash}
	for _, k := range []string{t.keys.rng, ix.keys.rng} {
		if k != "" {
			names = append(names, k)
		}
	}
	if ix.projection == "INCLUDE" {
		names = append(names, ix.include...)
	}
	return project(it, names)
}

// checkKeyCondition accepts `hash = :v` optionally AND one condition on the
// sort key, and returns the hash key's value.
func checkKeyCondition(c cond, keys keySchema) (types.AttributeValue, error) {
	var parts []cond
	if a, ok := c.(andCond); ok {
		parts = []cond{a.a, a.b}
	} else {
		parts = []cond{c}
	}
	var hashVal types.AttributeValue
	rangeConds := 0
	for _, p := range parts {
		switch x := p.(type) {
		case cmpCond:
			pa, ok := x.a.(pathOperand)
			v, isVal := x.b.(valueOperand)
			if !ok || !isVal || len(pa) != 1 {
				return nil, validation("Invalid KeyConditionExpression")
			}
			switch {
			case pa[0] == keys.hash && x.op == "=":
				hashVal = v.v
			case pa[0] == keys.rng && x.op != "<>":
				rangeConds++
			default:
				return nil, validation("Query key condition not supported: %s %s", pa, x.op)
			}
		case beginsCond:
			pa, ok := x.a.(pathOperand)
			if !ok || len(pa) != 1 || pa[0] != keys.rng {
				return nil, validation("Query key condition not supported: begins_with")
			}
			rangeConds++
		case betweenCond:
			pa, ok := x.a.(pathOperand)
			if !ok || len(pa) != 1 || pa[0] != keys.rng {
				return nil, validation("Query key condition not supported: BETWEEN")
			}
			rangeConds++
		default:
			return nil, validation("Invalid KeyConditionExpression")
		}
	}
	if hashVal == nil || rangeConds > 1 {
		return nil, validation("Query condition missed key schema element: %s", keys.hash)
	}
	return hashVal, nil
}

// Empty is an in-memory DynamoDB without tables.
func Empty() *DB { return &DB{tables: map[string]*table{}, Tables: map[string]string{}} }
