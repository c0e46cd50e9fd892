// Command stack runs the local AWS stack. With a command after "--" it
// starts one stack, runs the command with the endpoint variables set
// (CLAIMS_STACK_SHARED=1, so every test package shares it) and stops the
// stack whatever happens, exiting with the command's code. Without one it
// starts the stack, provisions template.yaml's resources and waits for
// Ctrl-C.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/cpor-claims/claims/local/samtemplate"
	"github.com/cpor-claims/claims/local/stack"
)

func main() { os.Exit(run()) }

func run() int {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	root, err := stack.FindRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	started := time.Now()
	st, err := stack.Start(ctx, stack.Options{Root: root, ExternalAWS: os.Getenv("CLAIMS_EXTERNAL_AWS_ENDPOINT")})
	if err != nil {
		fmt.Fprintf(os.Stderr, "the local AWS stack could not start: %v\n", err)
		return 1
	}
	defer st.Stop()
	st.Setenv()
	fmt.Fprintf(os.Stderr, "local stack up in %s: DynamoDB %s, SQS/SES/S3 %s\n", time.Since(started).Round(time.Millisecond), st.DynamoDBURL, st.AWSURL)

	if len(args) == 0 {
		return serve(root, sigs)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "CLAIMS_STACK_SHARED=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-sigs:
			_ = cmd.Process.Signal(sig)
		case err := <-done:
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				return exit.ExitCode()
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			return 0
		}
	}
}

func serve(root string, sigs chan os.Signal) int {
	t, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	res, err := stack.Provision(context.Background(), cfg, t, "local", nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("table %s\nqueue %s\ndead-letter queue %s\nbucket %s\nsender %s\n", res.TableName, res.QueueURL, res.DLQURL, res.BucketName, res.Sender)
	for _, kv := range []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"} {
		fmt.Printf("export %s=%s\n", kv, os.Getenv(kv))
	}
	fmt.Println("Ctrl-C stops the stack.")
	<-sigs
	return 0
}
