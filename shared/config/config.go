// Package config reads a function's configuration from its environment
// (template.yaml sets it; the local runner resolves the same variables).
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is every setting any function reads; each function checks only
// what it uses with Require.
type Config struct {
	TableName        string
	QueueURL         string
	EvidenceBucket   string
	SenderEmail      string
	PublicBaseURL    string
	BusinessTimeZone string
	BusinessCountry  string
	DueShards        int
	RequeueAfter     time.Duration
	ResendAfter      time.Duration
	TenantLookup     bool
	TenantLookupURL  string
	// OptOutCoolDown: after an opt-out, the partner's new claims on the same
	// tenant and products are rejected for this long (OPT_OUT_COOLDOWN_DAYS).
	OptOutCoolDown time.Duration
}

// FromEnv reads the environment.
func FromEnv() (Config, error) {
	c := Config{
		TableName:        os.Getenv("TABLE_NAME"),
		QueueURL:         os.Getenv("QUEUE_URL"),
		EvidenceBucket:   os.Getenv("EVIDENCE_BUCKET"),
		SenderEmail:      os.Getenv("SENDER_EMAIL"),
		PublicBaseURL:    strings.TrimRight(os.Getenv("PUBLIC_BASE_URL"), "/"),
		BusinessTimeZone: envOr("BUSINESS_TIMEZONE", "America/Los_Angeles"),
		BusinessCountry:  envOr("BUSINESS_COUNTRY", "US"),
		TenantLookupURL:  strings.TrimRight(envOr("TENANT_LOOKUP_BASE_URL", "https://login.microsoftonline.com"), "/"),
	}
	var err error
	if c.DueShards, err = strconv.Atoi(envOr("DUE_SHARDS", "4")); err != nil || c.DueShards < 1 || c.DueShards > 64 {
		return c, fmt.Errorf("DUE_SHARDS: want 1..64, got %q", os.Getenv("DUE_SHARDS"))
	}
	if c.RequeueAfter, err = time.ParseDuration(envOr("REQUEUE_AFTER", "10m")); err != nil || c.RequeueAfter <= 0 {
		return c, fmt.Errorf("REQUEUE_AFTER: want a positive duration, got %q", os.Getenv("REQUEUE_AFTER"))
	}
	if c.ResendAfter, err = time.ParseDuration(envOr("RESEND_AFTER", "90s")); err != nil || c.ResendAfter <= 0 {
		return c, fmt.Errorf("RESEND_AFTER: want a positive duration, got %q", os.Getenv("RESEND_AFTER"))
	}
	days, err := strconv.Atoi(envOr("OPT_OUT_COOLDOWN_DAYS", "90"))
	if err != nil || days < 0 || days > 3650 {
		return c, fmt.Errorf("OPT_OUT_COOLDOWN_DAYS: want 0..3650, got %q", os.Getenv("OPT_OUT_COOLDOWN_DAYS"))
	}
	c.OptOutCoolDown = time.Duration(days) * 24 * time.Hour
	if c.TenantLookup, err = strconv.ParseBool(envOr("TENANT_LOOKUP_ENABLED", "true")); err != nil {
		return c, fmt.Errorf("TENANT_LOOKUP_ENABLED: %w", err)
	}
	return c, nil
}

// Require fails naming every listed setting that is empty.
func (c Config) Require(names ...string) error {
	vals := map[string]string{
		"TABLE_NAME": c.TableName, "QUEUE_URL": c.QueueURL, "EVIDENCE_BUCKET": c.EvidenceBucket,
		"SENDER_EMAIL": c.SenderEmail, "PUBLIC_BASE_URL": c.PublicBaseURL,
	}
	var missing []string
	for _, n := range names {
		if vals[n] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing configuration: %s", strings.Join(missing, ", "))
	}
	return nil
}

func envOr(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}
