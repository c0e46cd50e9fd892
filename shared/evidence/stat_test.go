package evidence

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// headOnly answers HeadObject with a fixed error (the local emulator does
// not enforce IAM, so S3's 403 for a missing key is played here).
type headOnly struct {
	API
	err error
}

func (h headOnly) HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	if h.err != nil {
		return nil, h.err
	}
	return &s3.HeadObjectOutput{ContentLength: aws.Int64(7), ContentType: aws.String("application/pdf")}, nil
}

// status builds the error the SDK returns for an S3 answer without a body.
func status(code int, apiCode string) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: "HeadObject", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}},
			Err: &smithy.GenericAPIError{Code: apiCode}},
	}}
}

// A HEAD of a missing key is 404 with s3:ListBucket and 403 without: both
// read as missing; other failures stay errors.
func TestStatMissingWithOrWithoutListBucket(t *testing.T) {
	for name, c := range map[string]struct {
		err     error
		missing bool
	}{
		"found":                  {nil, false},
		"404 (with ListBucket)":  {status(404, "NotFound"), true},
		"403 (no ListBucket)":    {status(403, "Forbidden"), true},
		"500":                    {status(500, "InternalError"), false},
		"no answer (connection)": {errors.New("dial tcp: connection refused"), false},
	} {
		b := &Bucket{api: headOnly{err: c.err}, name: "b"}
		obj, err := b.Stat(context.Background(), Key("c", "e"))
		switch {
		case c.err == nil && (err != nil || obj.Size != 7):
			t.Errorf("%s: %+v %v", name, obj, err)
		case c.missing && !errors.Is(err, ErrMissing):
			t.Errorf("%s: %v, want ErrMissing", name, err)
		case c.err != nil && !c.missing && (err == nil || errors.Is(err, ErrMissing)):
			t.Errorf("%s: %v, want a failure", name, err)
		}
	}
}
