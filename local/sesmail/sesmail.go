// Package sesmail reads back the emails the SES emulator (LocalStack) has
// accepted, from its /_aws/ses endpoint, in the local runner's form.
package sesmail

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Email is one sent email (API.md "GET /_local/emails").
type Email struct {
	ID      string   `json:"id"`
	To      []string `json:"to"`
	From    string   `json:"from"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	HTML    string   `json:"html"`
	SentAt  string   `json:"sentAt,omitempty"`
}

type sentEmail struct {
	ID          string `json:"Id"`
	Timestamp   string `json:"Timestamp"`
	Source      string `json:"Source"`
	Subject     string `json:"Subject"`
	Destination struct {
		ToAddresses []string `json:"ToAddresses"`
	} `json:"Destination"`
	Body struct {
		Text string `json:"text_part"`
		HTML string `json:"html_part"`
	} `json:"Body"`
}

// Fetch returns every email sent so far, oldest first. endpoint is the
// emulator's base URL (AWS_ENDPOINT_URL).
func Fetch(ctx context.Context, endpoint string) ([]Email, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(endpoint, "/")+"/_aws/ses", nil)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read emails: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read emails: status %d", resp.StatusCode)
	}
	var doc struct {
		Messages []sentEmail `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, fmt.Errorf("read emails: %w", err)
	}
	out := make([]Email, 0, len(doc.Messages))
	for _, m := range doc.Messages {
		to := m.Destination.ToAddresses
		if to == nil {
			to = []string{}
		}
		out = append(out, Email{ID: m.ID, To: to, From: m.Source, Subject: m.Subject, Text: m.Body.Text, HTML: m.Body.HTML, SentAt: m.Timestamp})
	}
	return out, nil
}

// To keeps the emails sent to addr.
func To(all []Email, addr string) []Email {
	var out []Email
	for _, e := range all {
		for _, t := range e.To {
			if strings.EqualFold(t, addr) {
				out = append(out, e)
				break
			}
		}
	}
	return out
}
