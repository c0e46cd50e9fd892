package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// Schemathesis, driven by docs/openapi.yaml, finds nothing: every answer
// of every operation (reached through the document's links where it needs
// a claim) is one the document allows, every request the document refuses
// is refused and nothing answers 5xx. Fixed seed, small budget.
func TestOpenAPIFuzz(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := Fuzz(ctx, Options{Root: testenv.Root(), Seed: DefaultSeed, Examples: DefaultExamples, Out: &out, Log: testLog{t}})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
}

// testLog keeps the runner's log out of a passing run (the report says
// enough) but shows its errors.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("level=ERROR")) {
		l.t.Logf("runner: %s", bytes.TrimSpace(p))
	}
	return len(p), nil
}
