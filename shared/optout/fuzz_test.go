package optout_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cpor-claims/claims/shared/claim"
)

// FuzzOptOutToken: whatever the link's token, the page answers 404 for a
// token it does not know (or a malformed one), never changes anything, and
// shows no input back unescaped.
func FuzzOptOutToken(f *testing.F) {
	real, _ := claim.NewOptOutToken()
	for _, s := range []string{"", "x", real, real + "=", strings.Repeat("A", 43), strings.Repeat("-", 43), "<script>alert(1)</script>", "../../etc/passwd", "%00"} {
		f.Add(s)
	}
	var h func(string) (int, string)
	f.Fuzz(func(t *testing.T, token string) {
		if h == nil {
			_, handler, _ := setup(t)
			h = func(tok string) (int, string) {
				resp, err := handler.Handle(context.Background(), request(http.MethodPost, tok, time.Now()))
				if err != nil {
					t.Fatal(err)
				}
				return resp.StatusCode, resp.Body
			}
		}
		code, body := h(token)
		if code != http.StatusNotFound {
			t.Fatalf("token %q: %d", token, code)
		}
		if strings.Contains(body, "<script>") {
			t.Fatal("input reflected unescaped")
		}
	})
}
