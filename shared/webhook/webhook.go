// Package webhook is the partners' webhooks (API.md "Events and webhooks"):
// registration with its URL checks (no SSRF), secrets sealed with KMS, and
// delivery of "Claim Status Changed" events signed as Standard Webhooks
// specifies, retried through the delivery message's visibility timeout.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxPerPartner is how many webhooks a partner may have.
const MaxPerPartner = 10

// SecretPrefix starts every secret (Standard Webhooks).
const SecretPrefix = "whsec_"

// RotationOverlap is how long a rotated-out secret still signs.
const RotationOverlap = 24 * time.Hour

// Webhook is a partner's subscription, as the API shows it.
type Webhook struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Description string    `json:"description"`
	Statuses    []string  `json:"statuses"`
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"createdAt"`
}

// SealedSecret is a secret as stored: KMS ciphertext, and until when it
// signs (nil: the current secret).
type SealedSecret struct {
	Ciphertext []byte     `json:"ciphertext"`
	CreatedAt  time.Time  `json:"createdAt"`
	RetiresAt  *time.Time `json:"retiresAt,omitempty"`
}

// NewSecret is "whsec_" and the base64 of 32 random bytes.
func NewSecret() (string, []byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", nil, err
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), key, nil
}

// Signature is one "v1,<base64>" signature of msgID.timestamp.body.
func Signature(key []byte, msgID string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Matches reports whether a webhook wants a change to status.
func (w Webhook) Matches(status string) bool {
	if len(w.Statuses) == 0 {
		return true
	}
	for _, s := range w.Statuses {
		if s == status {
			return true
		}
	}
	return false
}

// DeliveryID is the id of one event's delivery to one webhook: stable, so a
// redelivered fan-out finds the delivery it already made.
func DeliveryID(webhookID, eventID string) string {
	sum := sha256.Sum256([]byte(webhookID + "\x00" + eventID))
	return "dlv_" + hex.EncodeToString(sum[:12])
}

// DefaultSchedule is the delay before each retry (API.md): after the
// first attempt 5 s, then 5 min, 30 min, 2 h, 5 h, 10 h and 10 h.
var DefaultSchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// ParseSchedule reads a comma-separated list of durations ("1s,1s,2s").
func ParseSchedule(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d < 0 || d > 12*time.Hour {
			return nil, fmt.Errorf("retry schedule %q: each delay a duration of at most 12h", s)
		}
		out = append(out, d)
	}
	return out, nil
}
