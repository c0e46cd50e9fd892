package runner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cpor-claims/claims/local/stack"
)

// children counts this process's child processes.
func children(t *testing.T) int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	me := strconv.Itoa(os.Getpid())
	n := 0
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut after ')'.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == me {
			n++
		}
	}
	return n
}

// An instance that fails to start is killed and forgotten: it leaves no
// process and holds no slot of the instance bound, so the next start (here
// with Max 1) gets the slot.
func TestFailedStartsAreKilledAndForgotten(t *testing.T) {
	root, err := stack.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	rie, err := stack.RIE(root)
	if err != nil {
		t.Fatal(err)
	}
	exits, err := exec.LookPath("false")
	if err != nil {
		t.Fatal(err)
	}
	before := children(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, c := range []struct {
		name, rie string
		limit     time.Duration
		want      string
	}{
		// The real emulator, given no time to listen.
		{"never listens in time", rie, time.Nanosecond, "did not listen"},
		// An emulator that exits at once.
		{"exits at start", exits, 0, "exited at start"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &Function{Name: "Broken", RIE: c.rie, Binary: "/nonexistent/bootstrap", Max: 1, StartTimeout: c.limit}
			defer f.Close()
			for i := range 2 { // the second would wait forever if the first held the slot
				actx, acancel := context.WithTimeout(ctx, 20*time.Second)
				_, err := f.acquire(actx)
				acancel()
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("start %d: %v, want %q", i+1, err, c.want)
				}
				if n := f.Instances(); n != 0 {
					t.Fatalf("start %d: %d instances counted after a failed start", i+1, n)
				}
				if n := children(t); n != before {
					t.Fatalf("start %d: %d child processes, %d before: the failed instance was left running", i+1, n, before)
				}
			}
			// The slot is free: a start that may listen gets it.
			f.RIE, f.StartTimeout = rie, 0
			in, err := f.acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			f.release(in)
			if n := f.Instances(); n != 1 {
				t.Fatalf("%d instances, want 1", n)
			}
		})
	}
	if n := children(t); n != before {
		t.Fatalf("%d child processes after Close, %d before", n, before)
	}
}
