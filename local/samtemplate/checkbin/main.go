// Command checkbin checks the binaries `sam build` produced: one bootstrap
// for every function of template.yaml, each a static (no interpreter, no
// dynamic section), stripped ELF for the architecture asked, built (as its
// Go build information says) with -trimpath, -tags lambda.norpc,
// CGO_ENABLED=0 and the architecture's GOARCH, within the size budget.
//
//	checkbin -arch arm64 [-template template.yaml] [-max-mb N] .aws-sam/build
package main

import (
	"debug/buildinfo"
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cpor-claims/claims/local/samtemplate"
)

var machines = map[string]struct {
	elf    elf.Machine
	goarch string
}{
	"arm64":  {elf.EM_AARCH64, "arm64"},
	"x86_64": {elf.EM_X86_64, "amd64"},
}

func main() {
	arch := flag.String("arch", "arm64", "arm64 or x86_64")
	tmplPath := flag.String("template", "template.yaml", "the template whose functions must all be there")
	maxMB := flag.Float64("max-mb", 0, "fail above this size (0: report only)")
	flag.Parse()
	want, ok := machines[*arch]
	if !ok || flag.NArg() != 1 {
		fail("usage: checkbin -arch arm64|x86_64 [-template template.yaml] [-max-mb N] <sam build dir>")
	}
	tmpl, err := samtemplate.Load(*tmplPath)
	if err != nil {
		fail("%v", err)
	}
	dir := flag.Arg(0)
	bad := false
	for _, f := range tmpl.Functions() {
		b := filepath.Join(dir, f.ID, "bootstrap")
		problems, mb := check(b, want.elf, want.goarch, *maxMB)
		status := "ok"
		if len(problems) > 0 {
			status, bad = strings.Join(problems, ", "), true
		}
		fmt.Printf("%-20s %-8s %6.1f MB  %s\n", f.ID, *arch, mb, status)
	}
	if bad {
		os.Exit(1)
	}
}

// check returns what is wrong with one bootstrap, and its size in MB.
func check(path string, machine elf.Machine, goarch string, maxMB float64) ([]string, float64) {
	st, err := os.Stat(path)
	if err != nil {
		return []string{"missing: " + err.Error()}, 0
	}
	mb := float64(st.Size()) / (1 << 20)
	f, err := elf.Open(path)
	if err != nil {
		return []string{"not an ELF file: " + err.Error()}, mb
	}
	defer f.Close()
	var problems []string
	if f.Machine != machine {
		problems = append(problems, "machine "+f.Machine.String())
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			problems = append(problems, "dynamically linked")
			break
		}
	}
	// -s drops the symbol table, -w the DWARF sections (with -trimpath the
	// build information does not record -ldflags, so the sections tell).
	for _, s := range f.Sections {
		if strings.HasPrefix(s.Name, ".debug") || strings.HasPrefix(s.Name, ".zdebug") || s.Name == ".symtab" {
			problems = append(problems, "not stripped ("+s.Name+")")
			break
		}
	}
	problems = append(problems, checkBuildInfo(path, goarch)...)
	if maxMB > 0 && mb > maxMB {
		problems = append(problems, fmt.Sprintf("%.1f MB > %.0f MB", mb, maxMB))
	}
	return problems, mb
}

// checkBuildInfo reads the settings the Go toolchain recorded in the binary.
func checkBuildInfo(path, goarch string) []string {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return []string{"no Go build information: " + err.Error()}
	}
	set := map[string]string{}
	for _, s := range bi.Settings {
		set[s.Key] = s.Value
	}
	var problems []string
	if set["-trimpath"] != "true" {
		problems = append(problems, "built without -trimpath")
	}
	if !slices.Contains(strings.Split(set["-tags"], ","), "lambda.norpc") {
		problems = append(problems, fmt.Sprintf("built without -tags lambda.norpc (tags %q)", set["-tags"]))
	}
	if set["CGO_ENABLED"] != "0" {
		problems = append(problems, fmt.Sprintf("CGO_ENABLED=%q, want 0", set["CGO_ENABLED"]))
	}
	if set["GOARCH"] != goarch || set["GOOS"] != "linux" {
		problems = append(problems, fmt.Sprintf("built for %s/%s, want linux/%s", set["GOOS"], set["GOARCH"], goarch))
	}
	return problems
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
	os.Exit(1)
}
