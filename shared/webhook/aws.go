package webhook

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// KMSAPI is the part of KMS the sealer uses.
type KMSAPI interface {
	Encrypt(ctx context.Context, in *kms.EncryptInput, opts ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// KMSSealer seals secrets with a KMS key, the encryption context binding
// each ciphertext to its partner and webhook (a ciphertext copied to
// another webhook does not open).
type KMSSealer struct {
	KMS   KMSAPI
	KeyID string
}

func context_(partner, id string) map[string]string {
	return map[string]string{"partnerId": partner, "webhookId": id}
}

// Seal encrypts.
func (k KMSSealer) Seal(ctx context.Context, plaintext []byte, partner, webhookID string) ([]byte, error) {
	out, err := k.KMS.Encrypt(ctx, &kms.EncryptInput{KeyId: &k.KeyID, Plaintext: plaintext, EncryptionContext: context_(partner, webhookID)})
	if err != nil {
		return nil, err
	}
	return out.CiphertextBlob, nil
}

// Open decrypts.
func (k KMSSealer) Open(ctx context.Context, ciphertext []byte, partner, webhookID string) ([]byte, error) {
	out, err := k.KMS.Decrypt(ctx, &kms.DecryptInput{KeyId: &k.KeyID, CiphertextBlob: ciphertext, EncryptionContext: context_(partner, webhookID)})
	if err != nil {
		return nil, err
	}
	return out.Plaintext, nil
}

// SQSAPI is the part of SQS the delivery queue uses.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// DeliveryQueue is the delivery queue.
type DeliveryQueue struct {
	SQS SQSAPI
	URL string
}

// Enqueue sends one delivery message.
func (q DeliveryQueue) Enqueue(ctx context.Context, m Message) error {
	body, _ := json.Marshal(m)
	_, err := q.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &q.URL, MessageBody: aws.String(string(body))})
	return err
}

// Delay hides a received message for d (at most 12 h, SQS's limit).
func (q DeliveryQueue) Delay(ctx context.Context, receiptHandle string, d time.Duration) error {
	secs := int32(min(d, 12*time.Hour) / time.Second)
	_, err := q.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &q.URL, ReceiptHandle: &receiptHandle, VisibilityTimeout: secs})
	return err
}
