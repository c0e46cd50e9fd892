package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// A Docker engine samlocal starts on a state folder it never had (as on a
// fresh machine) is ready for sam local on its first start as on its
// second: its bridge has the fixed gateway address, and a container
// reaches a server on the host there at once. The test's engine has its
// own state folder (removed afterwards); a root without dockerd fails it.
func TestFirstEngineStartIsReady(t *testing.T) {
	if _, err := docker(context.Background(), "info"); err == nil && os.Getenv("DOCKER_HOST") == "" {
		t.Log("a Docker engine already answers on the default socket; this test starts its own on another socket")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	data := filepath.Join(t.TempDir(), "docker")
	// A server on the host, on every address, as the emulators listen: it
	// greets whoever connects.
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprint(c, "host-ok")
			c.Close()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	for _, start := range []string{"first", "second"} {
		began := time.Now()
		e, err := startEngine(ctx, data, BridgeIP)
		if err != nil {
			t.Fatalf("%s start: %v", start, err)
		}
		if e.Gateway != "198.18.213.1" {
			e.Stop()
			t.Fatalf("%s start: gateway %s", start, e.Gateway)
		}
		t.Setenv("DOCKER_HOST", e.Host)
		const img = "claims-engine-probe:latest"
		if start == "first" {
			if err := importStandIn(ctx, img); err != nil {
				e.Stop()
				t.Fatal(err)
			}
		}
		out, err := docker(ctx, "run", "--rm", img, "/bin/busybox", "nc", "-w", "5", e.Gateway, port)
		reached := time.Since(began)
		e.Stop()
		if err != nil || out != "host-ok" {
			t.Fatalf("%s start: a container did not reach the host at %s: %v %s", start, e.Gateway, err, out)
		}
		t.Logf("%s start: engine ready in %s (bridge %s), a container reached the host %s after the start",
			start, e.Ready.Round(time.Millisecond), e.Gateway, reached.Round(time.Millisecond))
	}
}
