package evidence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	_ "embed"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// poeTemplate is the proof-of-execution template document the project ships
// (Rich Text Format: opens and saves in Word and every word processor).
//
//go:embed poe-template.rtf
var poeTemplate []byte

// Template's object key and content type.
const (
	TemplateKey         = "templates/poe-template-v1.rtf"
	TemplateContentType = "application/rtf"
	TemplateLinkTTL     = time.Hour
)

// TemplateURL makes sure the template is in the bucket (uploading it the
// first time) and returns a presigned GET link to it.
func (b *Bucket) TemplateURL(ctx context.Context) (string, error) {
	if _, err := b.Stat(ctx, TemplateKey); err != nil {
		if !errors.Is(err, ErrMissing) {
			return "", err
		}
		_, err := b.api.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &b.name, Key: aws.String(TemplateKey), Body: bytes.NewReader(poeTemplate),
			ContentType:        aws.String(TemplateContentType),
			ContentDisposition: aws.String(`attachment; filename="proof-of-execution-template.rtf"`),
		})
		if err != nil {
			return "", fmt.Errorf("upload PoE template: %w", err)
		}
	}
	req, err := b.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &b.name, Key: aws.String(TemplateKey)},
		s3.WithPresignExpires(TemplateLinkTTL))
	if err != nil {
		return "", fmt.Errorf("presign PoE template: %w", err)
	}
	return req.URL, nil
}
