package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cpor-claims/claims/shared/claim"
)

// Bulk imports (API.md "Bulk import (v2)"): one item per import
// (IMPORT#<id> / META, listed per partner through the partner index under
// IMPORTS#<partnerId>), and in the same partition one item per finished
// row: ROW#<row> for a row that became a Draft (written in the Draft's own
// transaction, under attribute_not_exists: the row's guard) and ERR#<row>
// for a refused row (its broken values). A row is thus done at most once,
// whatever re-runs the file.

// Import statuses.
const (
	ImportAwaitingUpload = "AwaitingUpload"
	ImportProcessing     = "Processing"
	ImportCompleted      = "Completed"
	ImportFailed         = "Failed"
)

const (
	importPrefix        = "IMPORT#"
	importPartnerPrefix = "IMPORTS#"
	importRowPrefix     = "ROW#"
	importErrPrefix     = "ERR#"
	typeImport          = "import"
	typeImportRow       = "importRow"
)

// ErrImportRowDone: the row already became a Draft (its guard exists).
var ErrImportRowDone = errors.New("import row already created")

// ErrImportMoved: the import is no longer where the caller left it (another
// invocation advanced it, or it finished).
var ErrImportMoved = errors.New("import advanced elsewhere")

// ImportOwner is who uploaded the file: the rows are created as if this
// partner user had posted them (the same MPN IDs check).
type ImportOwner struct {
	Sub         string   `json:"sub"`
	PartnerName string   `json:"partnerName,omitempty"`
	MPNIDs      []string `json:"mpnIds"`
	Admin       bool     `json:"admin"`
}

// Import is one bulk import. The JSON form is the API's, but for the
// fields the API does not show (owner, progress, pinned file).
type Import struct {
	ID          string     `json:"id"`
	PartnerID   string     `json:"-"`
	FileName    string     `json:"fileName"`
	Size        int64      `json:"-"`
	Status      string     `json:"status"`
	Total       int        `json:"total"`
	Succeeded   int        `json:"succeeded"`
	Failed      int        `json:"failed"`
	Failure     string     `json:"failure,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	CompletedAt *time.Time `json:"completedAt,omitempty"`
	// NextRow is the first data row not yet done (2 = the first after the
	// header): the counts cover exactly the rows before it.
	NextRow int         `json:"-"`
	ETag    string      `json:"-"`
	Owner   ImportOwner `json:"-"`
}

// importItem is the stored form (every field, under its own names).
type importItem struct {
	ID          string      `dynamodbav:"id"`
	PartnerID   string      `dynamodbav:"partnerId"`
	FileName    string      `dynamodbav:"fileName"`
	Size        int64       `dynamodbav:"size"`
	Status      string      `dynamodbav:"status"`
	Total       int         `dynamodbav:"total"`
	Succeeded   int         `dynamodbav:"succeeded"`
	Failed      int         `dynamodbav:"failed"`
	Failure     string      `dynamodbav:"failure,omitempty"`
	CreatedAt   time.Time   `dynamodbav:"createdAt"`
	CompletedAt *time.Time  `dynamodbav:"completedAt,omitempty"`
	NextRow     int         `dynamodbav:"nextRow"`
	ETag        string      `dynamodbav:"etag,omitempty"`
	Owner       ImportOwner `dynamodbav:"owner"`
}

func importPK(id string) string { return importPrefix + id }

func importRowSK(row int) string { return fmt.Sprintf("%s%07d", importRowPrefix, row) }
func importErrSK(row int) string { return fmt.Sprintf("%s%07d", importErrPrefix, row) }

func decodeImport(item map[string]types.AttributeValue) (*Import, error) {
	var it importItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return nil, fmt.Errorf("decode import: %w", err)
	}
	im := Import(it)
	return &im, nil
}

// PutImport records a new import (AwaitingUpload).
func (s *Store) PutImport(ctx context.Context, im *Import) error {
	item, err := attributevalue.MarshalMap(importItem(*im))
	if err != nil {
		return fmt.Errorf("marshal import: %w", err)
	}
	item[attrPK] = str(importPK(im.ID))
	item[attrSK] = str(metaSK)
	item[attrType] = str(typeImport)
	item[attrGSI1PK] = str(importPartnerPrefix + im.PartnerID)
	item[attrGSI1SK] = str(fmtKeyTime(im.CreatedAt) + "#" + im.ID)
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err != nil {
		return fmt.Errorf("put import: %w", err)
	}
	return nil
}

// GetImport reads one import.
func (s *Store) GetImport(ctx context.Context, id string) (*Import, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(importPK(id), metaSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get import: %w", err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("import %s: %w", id, ErrNotFound)
	}
	return decodeImport(out.Item)
}

// ImportPage is one page of a partner's imports, newest first.
type ImportPage struct {
	Items []Import
	Next  string
}

func importScope(partnerID string) string { return "imports\x00" + partnerID }

// ListImports returns a partner's imports, newest first.
func (s *Store) ListImports(ctx context.Context, partnerID string, limit int, cur string) (ImportPage, error) {
	if limit < 1 || limit > 100 {
		return ImportPage{}, fmt.Errorf("limit %d: out of range", limit)
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(IndexByPartner),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(importPartnerPrefix + partnerID)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
	}
	if cur != "" {
		created, id, err := DecodeCursor(importScope(partnerID), cur)
		if err != nil {
			return ImportPage{}, err
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			attrPK: str(importPK(id)), attrSK: str(metaSK),
			attrGSI1PK: str(importPartnerPrefix + partnerID), attrGSI1SK: str(created + "#" + id),
		}
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return ImportPage{}, fmt.Errorf("list imports: %w", err)
	}
	page := ImportPage{Items: []Import{}}
	for _, it := range out.Items {
		im, err := decodeImport(it)
		if err != nil {
			return ImportPage{}, err
		}
		page.Items = append(page.Items, *im)
	}
	if out.LastEvaluatedKey != nil && len(page.Items) > 0 {
		last := page.Items[len(page.Items)-1]
		page.Next = EncodeCursor(importScope(partnerID), fmtKeyTime(last.CreatedAt), last.ID)
	}
	return page, nil
}

// StartImport moves an uploaded import to Processing and pins the file's
// ETag; an import already Processing with the same file is returned as it
// is (a second notification, a redelivery). ok is false when the import is
// finished (Completed, Failed) or was started for another file: nothing is
// left to do.
func (s *Store) StartImport(ctx context.Context, id, etag string) (im *Import, ok bool, err error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      key(importPK(id), metaSK),
		UpdateExpression:         aws.String("SET #st = :proc, #etag = :etag, #next = :two"),
		ConditionExpression:      aws.String("attribute_exists(pk) AND #st = :await"),
		ExpressionAttributeNames: map[string]string{"#st": "status", "#etag": "etag", "#next": "nextRow"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":proc": str(ImportProcessing), ":await": str(ImportAwaitingUpload), ":etag": str(etag), ":two": num(2),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		im, err := decodeImport(out.Attributes)
		return im, err == nil, err
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return nil, false, fmt.Errorf("start import: %w", err)
	}
	if ccf.Item == nil {
		return nil, false, fmt.Errorf("import %s: %w", id, ErrNotFound)
	}
	im, err = decodeImport(ccf.Item)
	if err != nil {
		return nil, false, err
	}
	return im, im.Status == ImportProcessing && im.ETag == etag, nil
}

// ImportProgress records that the rows before next are done with these
// counts. It holds only while the import is still Processing at from (a
// racing invocation that advanced it first wins: ErrImportMoved). With
// done, the import ends Completed.
func (s *Store) ImportProgress(ctx context.Context, id string, from, next, total, succeeded, failed int, done bool, now time.Time) error {
	upd := "SET #next = :next, #total = :total, #ok = :ok, #bad = :bad"
	vals := map[string]types.AttributeValue{
		":next": num(int64(next)), ":total": num(int64(total)), ":ok": num(int64(succeeded)), ":bad": num(int64(failed)),
		":from": num(int64(from)), ":proc": str(ImportProcessing),
	}
	if done {
		upd += ", #st = :done, #at = :at"
		vals[":done"] = str(ImportCompleted)
		vals[":at"] = str(now.UTC().Format(time.RFC3339Nano))
	}
	return s.moveImport(ctx, id, upd, vals)
}

// FailImport ends an import Failed with the reason; it holds only while
// no row is done yet (a file is refused as a whole, before anything).
func (s *Store) FailImport(ctx context.Context, id, failure string, now time.Time) error {
	return s.moveImport(ctx, id, "SET #st = :failed, #why = :why, #at = :at, #total = :zero, #ok = :zero, #bad = :zero",
		map[string]types.AttributeValue{
			":failed": str(ImportFailed), ":why": str(failure), ":at": str(now.UTC().Format(time.RFC3339Nano)),
			":zero": num(0), ":from": num(2), ":proc": str(ImportProcessing),
		})
}

func (s *Store) moveImport(ctx context.Context, id, upd string, vals map[string]types.AttributeValue) error {
	const cond = "#st = :proc AND #next = :from"
	names := map[string]string{}
	for k, v := range map[string]string{
		"#st": "status", "#next": "nextRow", "#total": "total", "#ok": "succeeded", "#bad": "failed",
		"#at": "completedAt", "#why": "failure",
	} {
		if strings.Contains(upd+" "+cond, k+" ") {
			names[k] = v
		}
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key(importPK(id), metaSK),
		UpdateExpression:          aws.String(upd),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: vals,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("import %s: %w", id, ErrImportMoved)
	}
	if err != nil {
		return fmt.Errorf("update import: %w", err)
	}
	return nil
}

// ImportRowOp is the row's guard, written in the Draft's own transaction:
// a row already created fails it (ErrImportRowDone) and nothing is written.
func (s *Store) ImportRowOp(importID string, row int, claimID string) Op {
	return Op{
		Item: types.TransactWriteItem{Put: &types.Put{
			TableName: &s.table,
			Item: map[string]types.AttributeValue{
				attrPK: str(importPK(importID)), attrSK: str(importRowSK(row)), attrType: str(typeImportRow),
				"claimId": str(claimID), "row": num(int64(row)),
			},
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}},
		OnConditionFailed: fmt.Errorf("import %s row %d: %w", importID, row, ErrImportRowDone),
	}
}

// RowError is one broken value of a refused row.
type RowError struct {
	Row     int    `dynamodbav:"row" json:"row"`
	Field   string `dynamodbav:"field" json:"field"`
	Code    string `dynamodbav:"code" json:"code"`
	Message string `dynamodbav:"message" json:"message"`
}

type rowErrorsItem struct {
	Row    int        `dynamodbav:"row"`
	Errors []RowError `dynamodbav:"errors"`
}

// PutImportRowErrors records a refused row's broken values, once: a row
// already recorded is left as it is.
func (s *Store) PutImportRowErrors(ctx context.Context, importID string, row int, errs []RowError) error {
	item, err := attributevalue.MarshalMap(rowErrorsItem{Row: row, Errors: errs})
	if err != nil {
		return fmt.Errorf("marshal row errors: %w", err)
	}
	item[attrPK] = str(importPK(importID))
	item[attrSK] = str(importErrSK(row))
	item[attrType] = str(typeImportRow)
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("put row errors: %w", err)
	}
	return nil
}

// ImportErrors calls fn with each refused row's errors, in row order.
func (s *Store) ImportErrors(ctx context.Context, importID string, fn func([]RowError) error) error {
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :err)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(importPK(importID)), ":err": str(importErrPrefix),
		},
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("import errors: %w", err)
		}
		for _, it := range out.Items {
			var r rowErrorsItem
			if err := attributevalue.UnmarshalMap(it, &r); err != nil {
				return fmt.Errorf("decode row errors: %w", err)
			}
			if err := fn(r.Errors); err != nil {
				return err
			}
		}
		if out.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// CreateImported writes a Draft made from an import's row with the row's
// guard in the same transaction: ErrImportRowDone when the row was
// created before (nothing is written then).
func (s *Store) CreateImported(ctx context.Context, c *claim.Claim, ev claim.Event, importID string, row int) error {
	return s.Create(ctx, c, ev, s.ImportRowOp(importID, row, c.ID))
}
