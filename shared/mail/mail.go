// Package mail sends the customer's opt-out notice and the partner's
// notices through SES, built from html/template and text/template so that
// everything a partner typed is escaped in the HTML part and no CR or LF
// ever reaches a header.
package mail

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
)

//go:embed templates
var templateFS embed.FS

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
}

// Mailer renders and sends the notices.
type Mailer struct {
	ses  SES
	from string
	html *htmltemplate.Template
	text *texttemplate.Template
	loc  *time.Location
}

var funcs = map[string]any{
	"date": func(loc *time.Location, t time.Time) string {
		return t.In(loc).Format("Monday 2 January 2006 15:04 MST")
	},
}

// New returns a mailer sending from the verified identity from; dates are
// shown in loc (the business time zone).
func New(client SES, from string, loc *time.Location) (*Mailer, error) {
	if _, err := cleanAddress(from); err != nil {
		return nil, fmt.Errorf("sender: %w", err)
	}
	h, err := htmltemplate.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	t, err := texttemplate.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.txt")
	if err != nil {
		return nil, err
	}
	if loc == nil {
		loc = time.UTC
	}
	return &Mailer{ses: client, from: from, html: h, text: t, loc: loc}, nil
}

// Render builds a message from the named template pair (name.html,
// name.txt); the subject is the text template "name.subject".
func (m *Mailer) Render(name, to string, data map[string]any) (Message, error) {
	data["Loc"] = m.loc
	var subj, txt, html bytes.Buffer
	if err := m.text.ExecuteTemplate(&subj, name+".subject", data); err != nil {
		return Message{}, err
	}
	if err := m.text.ExecuteTemplate(&txt, name+".txt", data); err != nil {
		return Message{}, err
	}
	if err := m.html.ExecuteTemplate(&html, name+".html", data); err != nil {
		return Message{}, err
	}
	return Message{To: to, Subject: HeaderSafe(subj.String()), Text: txt.String(), HTML: html.String()}, nil
}

// Send hands a message to SES. The recipient must be one plain address.
func (m *Mailer) Send(ctx context.Context, msg Message) (string, error) {
	to, err := cleanAddress(msg.To)
	if err != nil {
		return "", fmt.Errorf("recipient: %w", err)
	}
	utf8 := aws.String("UTF-8")
	out, err := m.ses.SendEmail(ctx, &ses.SendEmailInput{
		Source:      aws.String(m.from),
		Destination: &types.Destination{ToAddresses: []string{to}},
		Message: &types.Message{
			Subject: &types.Content{Data: aws.String(HeaderSafe(msg.Subject)), Charset: utf8},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String(msg.Text), Charset: utf8},
				Html: &types.Content{Data: aws.String(msg.HTML), Charset: utf8},
			},
		},
	})
	if err != nil {
		return "", fmt.Errorf("send email: %w", err)
	}
	return aws.ToString(out.MessageId), nil
}

// HeaderSafe folds every control character (CR, LF, tabs, ...) of a header
// value into a space and bounds its length, so no header can be injected.
func HeaderSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029 || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
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
