// Package store is the DynamoDB single-table repository of claims (DESIGN.md
// "Single table"): claims, their history, association items, opt-out tokens
// and idempotency records. Every change of a claim is one conditional
// transaction that also writes its history event.
package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cpor-claims/claims/shared/claim"
)

// DB is the part of the DynamoDB API the store uses.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Typed errors. Transition and edit refusals use claim.ErrInvalidTransition
// (as *claim.TransitionError) and claim.ErrLocked.
var (
	ErrNotFound = errors.New("not found")
	// ErrVersionConflict: the claim changed (or was being changed) since it
	// was read; re-read and try again.
	ErrVersionConflict = errors.New("version conflict")
	// ErrAssociationHeld: another partner holds a workload or subscription.
	ErrAssociationHeld = errors.New("association held by another partner")
	// ErrIdempotencyKeyUsed: the idempotency key already has a record.
	ErrIdempotencyKeyUsed = errors.New("idempotency key already used")
	// ErrInvalidCursor: a listing cursor that this store did not issue for
	// this partner and query.
	ErrInvalidCursor = errors.New("invalid cursor")
	// ErrAlreadyExists: an item that must be new exists.
	ErrAlreadyExists = errors.New("already exists")
)

// Defaults of the store's options.
const (
	DefaultDueShards = 4
	// DefaultRequeueAfter is how long a Submitted claim may wait for its
	// validation job before the scheduled run queues it again.
	DefaultRequeueAfter = 10 * time.Minute
	// IdempotencyTTL is how long an idempotency record is honoured.
	IdempotencyTTL = 24 * time.Hour
)

// Index names (template.yaml).
const (
	IndexByPartner  = "ByPartner"
	IndexByDeadline = "ByDeadline"
	// IndexByHolder lists association units by holder: holderpk
	// HOLDER#<partnerId>, holdersk <tenantId>#<productId>#<unit sort key>.
	IndexByHolder = "ByHolder"
)

// Store is the single-table repository.
type Store struct {
	db           DB
	table        string
	shards       int
	requeueAfter time.Duration
}

// Option configures a Store.
type Option func(*Store)

// WithDueShards sets how many shards the due-deadline index spreads over.
func WithDueShards(n int) Option {
	return func(s *Store) {
		if n > 0 {
			s.shards = n
		}
	}
}

// WithRequeueAfter sets how long a Submitted claim waits for its validation
// job before it is due for a re-queue.
func WithRequeueAfter(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.requeueAfter = d
		}
	}
}

// New returns a store on table.
func New(db DB, table string, opts ...Option) *Store {
	s := &Store{db: db, table: table, shards: DefaultDueShards, requeueAfter: DefaultRequeueAfter}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Table is the table's name.
func (s *Store) Table() string { return s.table }

// Shards is the number of due-deadline shards.
func (s *Store) Shards() int { return s.shards }

// keyTime formats times in keys: fixed width, so that strings sort as times.
const keyTime = "2006-01-02T15:04:05.000000000Z"

func fmtKeyTime(t time.Time) string { return t.UTC().Format(keyTime) }

// Key prefixes and sort keys.
const (
	claimPrefix   = "CLAIM#"
	metaSK        = "META"
	eventPrefix   = "EVT#"
	assocPrefix   = "ASSOC#"
	tokenPrefix   = "TOKEN#"
	tokenSK       = "TOKEN"
	idempPrefix   = "IDEMP#"
	idempSK       = "IDEMP"
	partnerPrefix = "PARTNER#"
	duePrefix     = "DUE#"
	// declinedPrefix starts what a customer declined by opting out:
	// DECLINED#<tenantId>#<partnerId> / PRODUCT#<productId> (issue 11).
	declinedPrefix = "DECLINED#"
	declinedSK     = "PRODUCT#"
)

func claimPK(id string) string { return claimPrefix + id }

func eventSK(ev claim.Event, version int64) string {
	return eventPrefix + fmtKeyTime(ev.At) + "#" + fmt.Sprintf("%010d", version)
}

func (s *Store) shardOf(id string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return int(h.Sum32() % uint32(s.shards))
}

func dueShardPK(shard int) string { return duePrefix + strconv.Itoa(shard) }

// KeySeparator separates the parts of a key ("ASSOC#<tenant>#<product>").
const KeySeparator = "#"

// ErrKeyPart: a value that would become part of a key contains the key
// separator (or nothing), so it could name another item's key.
var ErrKeyPart = errors.New("value not allowed in a key")

// keyPart refuses a key part that is empty or contains the separator.
func keyPart(what, v string) error {
	if v == "" || strings.Contains(v, KeySeparator) {
		return fmt.Errorf("%s %q: %w", what, v, ErrKeyPart)
	}
	return nil
}
