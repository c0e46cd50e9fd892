// Package mail sends the customer's opt-out notice and the partner's
// notices through SES. The HTML parts are templ components compiled to Go
// (emails.templ; `make generate`), so everything a partner typed is escaped
// by its context; the text parts and subjects are Go functions (text.go)
// that keep values on their line, and no CR or LF ever reaches a header.
// Neither uses text/template, whose reflective method lookup would keep
// every method of every SDK client in the function binaries.
package mail

import (
	"context"
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
)

// SES is the part of the SES API used to send.
type SES interface {
	SendEmail(ctx context.Context, in *ses.SendEmailInput, opts ...func(*ses.Options)) (*ses.SendEmailOutput, error)
}

// Message is one email: plain text and HTML parts of the same content.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
	// Tags are SES message tags (the customer's notice: which claim and
	// which notification), returned in SES's bounce and complaint events
	// as mail.tags. Only sent with a configuration set.
	Tags map[string]string
}

// Tag names of the customer's notice (SES message tags).
const (
	TagClaimID      = "claimId"
	TagNotification = "notification"
)

// Mailer renders and sends the notices.
type Mailer struct {
	ses  SES
	from string
	loc  *time.Location
	// ConfigurationSet is the SES configuration set messages with Tags are
	// sent with (its event destination reports bounces and complaints);
	// empty: none.
	ConfigurationSet string
}

// New returns a mailer sending from the verified identity from; dates are
// shown in loc (the business time zone).
func New(client SES, from string, loc *time.Location) (*Mailer, error) {
	if _, err := cleanAddress(from); err != nil {
		return nil, fmt.Errorf("sender: %w", err)
	}
	if loc == nil {
		loc = time.UTC
	}
	return &Mailer{ses: client, from: from, loc: loc}, nil
}

// date is how the emails show a moment: in the business time zone.
func (m *Mailer) date(t time.Time) string {
	return t.In(m.loc).Format("Monday 2 January 2006 15:04 MST")
}

// message builds one email from its subject, its plain-text part and its
// HTML part (a templ component).
func (m *Mailer) message(to, subject, text string, html templ.Component) (Message, error) {
	var b strings.Builder
	if err := html.Render(context.Background(), &b); err != nil {
		return Message{}, err
	}
	return Message{To: to, Subject: HeaderSafe(subject), Text: text, HTML: b.String()}, nil
}

// Send hands a message to SES. The recipient must be one plain address.
func (m *Mailer) Send(ctx context.Context, msg Message) (string, error) {
	to, err := cleanAddress(msg.To)
	if err != nil {
		return "", fmt.Errorf("recipient: %w", err)
	}
	utf8 := aws.String("UTF-8")
	in := &ses.SendEmailInput{
		Source:      aws.String(m.from),
		Destination: &types.Destination{ToAddresses: []string{to}},
		Message: &types.Message{
			Subject: &types.Content{Data: aws.String(HeaderSafe(msg.Subject)), Charset: utf8},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String(msg.Text), Charset: utf8},
				Html: &types.Content{Data: aws.String(msg.HTML), Charset: utf8},
			},
		},
	}
	if len(msg.Tags) > 0 && m.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(m.ConfigurationSet)
		names := make([]string, 0, len(msg.Tags))
		for k := range msg.Tags {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			in.Tags = append(in.Tags, types.MessageTag{Name: aws.String(k), Value: aws.String(msg.Tags[k])})
		}
	}
	out, err := m.ses.SendEmail(ctx, in)
	if err != nil {
		return "", fmt.Errorf("send email: %w", err)
	}
	return aws.ToString(out.MessageId), nil
}

// HeaderSafe folds every control character (CR, LF, tabs, ...) of a header
// value into a space and bounds its length, so no header can be injected.
func HeaderSafe(s string) string {
	s = strings.Join(strings.Fields(oneLine(s)), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	return s
}

// cleanAddress accepts one bare address (no display name, no CR/LF).
func cleanAddress(s string) (string, error) {
	if strings.ContainsAny(s, "\r\n<>,;") {
		return "", fmt.Errorf("%q is not a single plain address", s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return "", fmt.Errorf("%q is not a single plain address", s)
	}
	return a.Address, nil
}
