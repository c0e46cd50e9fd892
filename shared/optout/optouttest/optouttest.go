// Package optouttest holds what tests expect of every opt-out page, so the
// handler's unit tests and the tests through the runner check one list.
package optouttest

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
)

var styleRE = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// Headers are the exact security and content headers an opt-out page must
// carry, for the page's body: the CSP allows only the page's one <style>,
// by its hash. It fails when the body has not exactly one <style>.
func Headers(body string) (map[string]string, error) {
	styles := styleRE.FindAllStringSubmatch(body, -1)
	if len(styles) != 1 {
		return nil, fmt.Errorf("%d <style> elements, want exactly 1", len(styles))
	}
	sum := sha256.Sum256([]byte(styles[0][1]))
	return map[string]string{
		"Content-Type": "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
			"form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
		"Referrer-Policy":        "no-referrer",
		"X-Robots-Tag":           "noindex, nofollow",
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Cache-Control":          "no-store",
	}, nil
}
