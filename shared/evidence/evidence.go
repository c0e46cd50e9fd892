// Package evidence keeps proof-of-execution documents in the S3 bucket:
// presigned POST uploads whose policy pins the key, the content type and the
// size; checks that an upload arrived; and the PoE template the project ships.
package evidence

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// MaxSize is the largest evidence file accepted: 10 MiB.
const MaxSize = 10 << 20

// UploadTTL is how long a presigned upload stays valid: short, since a
// still-valid upload can replace the object (a new version; what was
// submitted is pinned by its version id either way).
const UploadTTL = 5 * time.Minute

// AllowedTypes are the evidence content types accepted (PDF, PNG, JPEG, DOCX).
var AllowedTypes = map[string]string{
	"application/pdf": ".pdf",
	"image/png":       ".png",
	"image/jpeg":      ".jpg",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}

// Key is the object key of one evidence file: built from ids only, never
// from the file name, so a name cannot reach another key.
func Key(claimID, evidenceID string) string {
	return "evidence/" + claimID + "/" + evidenceID
}

// API is the part of the S3 API used here.
type API interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, opts ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

var _ API = (*s3.Client)(nil)

// Bucket is the evidence bucket.
type Bucket struct {
	api     API
	presign *s3.PresignClient
	name    string
}

// New returns the evidence bucket name on client.
func New(client *s3.Client, name string) *Bucket {
	return &Bucket{api: client, presign: s3.NewPresignClient(client), name: name}
}

// Name is the bucket's name.
func (b *Bucket) Name() string { return b.name }

// Upload is a presigned browser upload: POST a multipart form to URL with
// Fields, then the file as the last field "file".
type Upload struct {
	URL       string            `json:"url"`
	Method    string            `json:"method"`
	Fields    map[string]string `json:"fields"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

// PresignUpload returns a POST upload whose policy pins the object key, the
// declared content type and a size of 1 byte to size, so storage refuses any
// other file, whatever the client does.
func (b *Bucket) PresignUpload(ctx context.Context, key, contentType string, size int64, now time.Time) (Upload, error) {
	if _, ok := AllowedTypes[contentType]; !ok {
		return Upload{}, fmt.Errorf("content type %q not allowed", contentType)
	}
	return b.PresignPost(ctx, key, contentType, size, MaxSize, now)
}

// PresignPost returns a browser POST upload of one object whose policy pins
// the key, the content type and a size of 1 byte to size (at most max):
// evidence files, and bulk import files (shared/imports).
func (b *Bucket) PresignPost(ctx context.Context, key, contentType string, size, max int64, now time.Time) (Upload, error) {
	if size < 1 || size > max {
		return Upload{}, fmt.Errorf("size %d out of range", size)
	}
	req, err := b.presign.PresignPostObject(ctx, &s3.PutObjectInput{
		Bucket: &b.name, Key: &key, ContentType: &contentType,
	}, func(o *s3.PresignPostOptions) {
		o.Expires = UploadTTL
		o.Conditions = []any{
			map[string]string{"Content-Type": contentType},
			[]any{"content-length-range", 1, size},
		}
	})
	if err != nil {
		return Upload{}, fmt.Errorf("presign upload: %w", err)
	}
	fields := make(map[string]string, len(req.Values)+1)
	for k, v := range req.Values {
		fields[k] = v
	}
	fields["Content-Type"] = contentType
	return Upload{URL: req.URL, Method: "POST", Fields: fields, ExpiresAt: now.Add(UploadTTL).UTC()}, nil
}

// Object is what storage says of an uploaded file.
type Object struct {
	Size        int64
	ContentType string
	// VersionID is the object's version (the bucket is versioned); empty
	// where storage keeps no versions.
	VersionID string
}

// ErrMissing: no object under the key.
var ErrMissing = errors.New("evidence object missing")

// Stat reads an object's size and type (HeadObject); ErrMissing when absent.
//
// S3 answers a HEAD of a missing key 404 only to a caller allowed
// s3:ListBucket on the key's prefix, and 403 to anyone else. template.yaml
// grants that ListBucket to every function that calls Stat; a 403 is taken
// as missing too, because a HEAD answer has no body to tell "denied" from
// "not there", and an upload that never arrived must read as not uploaded,
// not fail the request.
func (b *Bucket) Stat(ctx context.Context, key string) (Object, error) {
	out, err := b.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.name, Key: &key})
	if err != nil {
		if isNotFound(err) || isForbidden(err) {
			return Object{}, ErrMissing
		}
		return Object{}, fmt.Errorf("head %s: %w", key, err)
	}
	return Object{Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType), VersionID: version(out.VersionId)}, nil
}

// version is a version id as S3 reports it; "null" (an object written
// before versioning was enabled) names no version to pin.
func version(v *string) string {
	if s := aws.ToString(v); s != "null" {
		return s
	}
	return ""
}

// maxDeleteKeys is how many keys one DeleteObjects request takes.
const maxDeleteKeys = 1000

// Delete removes the objects under keys (DeleteObjects, quiet mode). A key
// with no object is not an error (S3 reports deleting nothing as success);
// any key S3 could not delete is.
func (b *Bucket) Delete(ctx context.Context, keys ...string) error {
	for len(keys) > 0 {
		n := min(len(keys), maxDeleteKeys)
		ids := make([]types.ObjectIdentifier, n)
		for i, k := range keys[:n] {
			ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		keys = keys[n:]
		out, err := b.api.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &b.name, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("delete objects: %w", err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("delete objects: %d not deleted, first %s: %s %s", len(out.Errors), aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
	}
	return nil
}

// Head reads the first n bytes of an object (to check its real type): of
// version versionID when given (what submit recorded; IAM
// s3:GetObjectVersion), so a later upload to the key changes nothing that
// is checked. A version that is gone is ErrMissing.
func (b *Bucket) Head(ctx context.Context, key, versionID string, n int) ([]byte, error) {
	return readVersion(ctx, b.api, b.name, key, versionID, n)
}

// readVersion is Head's GetObject, of one version when versionID is set.
func readVersion(ctx context.Context, api API, bucket, key, versionID string, n int) ([]byte, error) {
	in := &s3.GetObjectInput{Bucket: &bucket, Key: &key, Range: aws.String(fmt.Sprintf("bytes=0-%d", n-1))}
	if versionID != "" {
		in.VersionId = &versionID
	}
	out, err := api.GetObject(ctx, in)
	if err != nil {
		if isNotFound(err) {
			return nil, ErrMissing
		}
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	defer out.Body.Close()
	return io.ReadAll(io.LimitReader(out.Body, int64(n)))
}

func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NoSuchVersion")
}

// isForbidden: S3 refused the request (403). For a HEAD the SDK has only the
// status to go by (code "Forbidden"); other requests carry "AccessDenied".
func isForbidden(err error) bool {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "Forbidden" || ae.ErrorCode() == "AccessDenied")
}

// SniffLen is how many leading bytes Matches needs.
const SniffLen = 8

// Matches reports whether a file's first bytes are those of its declared
// type: PDF (%PDF-), PNG (its 8-byte signature), JPEG (FF D8 FF) or DOCX (a
// ZIP archive, PK 03 04).
func Matches(contentType string, head []byte) bool {
	var magic string
	switch contentType {
	case "application/pdf":
		magic = "%PDF-"
	case "image/png":
		magic = "\x89PNG\r\n\x1a\n"
	case "image/jpeg":
		magic = "\xff\xd8\xff"
	case "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
		magic = "PK\x03\x04"
	default:
		return false
	}
	return len(head) >= len(magic) && string(head[:len(magic)]) == magic
}
