package tenant

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestTenantOf(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration":
			fmt.Fprint(w, `{"issuer":"https://login.microsoftonline.com/72F988BF-86F1-41AF-91AB-2D7CD011DB47/v2.0","token_endpoint":"x"}`)
		case "/unknown.example/v2.0/.well-known/openid-configuration":
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_tenant","error_codes":[90002]}`)
		case "/flaky.example/v2.0/.well-known/openid-configuration":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			fmt.Fprint(w, `not json`)
		}
	}))
	defer srv.Close()
	l := New(srv.URL + "/")
	ctx := context.Background()

	got, err := l.TenantOf(ctx, "contoso.onmicrosoft.com")
	if err != nil || got != "72f988bf-86f1-41af-91ab-2d7cd011db47" {
		t.Fatalf("contoso: %q %v", got, err)
	}
	if _, err := l.TenantOf(ctx, "unknown.example"); !errors.Is(err, ErrUnknownDomain) {
		t.Fatalf("unknown domain: %v", err)
	}
	for _, d := range []string{"flaky.example", "garbled.example"} {
		if _, err := l.TenantOf(ctx, d); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("%s: %v, want ErrUnavailable", d, err)
		}
	}
	down := New("http://127.0.0.1:1")
	if _, err := down.TenantOf(ctx, "contoso.onmicrosoft.com"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("unreachable: %v, want ErrUnavailable", err)
	}
}
