// Command failfn is a Lambda function that fails on demand, for the
// runner's tests of how a failed invocation is answered: {"mode":...}
// "ok" returns, "error" returns an error, "panic" panics, "exit" exits
// the runtime, "sleep" runs past any short timeout.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, ev map[string]any) (map[string]any, error) {
		mode := ev["mode"]
		if recs, ok := ev["Records"].([]any); ok && len(recs) > 0 {
			var body map[string]any
			_ = json.Unmarshal([]byte(recs[0].(map[string]any)["body"].(string)), &body)
			mode = body["mode"]
		}
		switch mode {
		case "error":
			return nil, errors.New("it failed")
		case "panic":
			panic("boom")
		case "exit":
			os.Exit(3)
		case "sleep":
			time.Sleep(time.Minute)
		}
		return map[string]any{"ok": true}, nil
	})
}
