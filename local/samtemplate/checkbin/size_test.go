package main

import (
	"context"
	"debug/elf"
	"debug/gosym"
	"path/filepath"
	"testing"

	"github.com/cpor-claims/claims/local/runner"
	"github.com/cpor-claims/claims/local/samtemplate"
	"github.com/cpor-claims/claims/local/stack"
)

// maxMiB is every function binary's size goal (arm64, stripped), the one
// `make bench` reports against.
const maxMiB = 12

// reflectiveLookups are the functions whose mere reachability makes the Go
// linker keep every exported method of every type held in an interface
// (text/template and html/template executing a template reach them): with
// the SDK clients that is several MiB.
var reflectiveLookups = []string{"reflect.Value.MethodByName", "reflect.Value.Method", "reflect.Type.MethodByName"}

// TestFunctionBinaries builds every function of template.yaml as sam build
// does (arm64, static, stripped, lambda.norpc) and fails when one is past
// the size goal, is not built as checkbin requires, or reaches a reflective
// method lookup. It is `make bench-check`'s guard against a binary growing
// unnoticed (the build cache keeps it to seconds).
func TestFunctionBinaries(t *testing.T) {
	root, err := stack.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fns := tmpl.Functions()
	if len(fns) == 0 {
		t.Fatal("template.yaml declares no function")
	}
	for _, fn := range fns {
		t.Run(fn.ID, func(t *testing.T) {
			out := filepath.Join(dir, fn.ID)
			if err := runner.BuildFunction(context.Background(), root, fn.CodeURI, "arm64", out); err != nil {
				t.Fatal(err)
			}
			problems, mib := check(out, elf.EM_AARCH64, "arm64", maxMiB)
			t.Logf("%s: %.2f MiB (goal ≤ %d MiB)", fn.ID, mib, maxMiB)
			for _, p := range problems {
				t.Error(p)
			}
			for _, name := range reachable(t, out, reflectiveLookups) {
				t.Errorf("reaches %s: the linker keeps every exported method (is text/template or html/template executed?)", name)
			}
		})
	}
}

// reachable returns which of names are functions of the binary, read from
// its pclntab (kept by -s: tracebacks need it).
func reachable(t *testing.T, path string, names []string) []string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sec := f.Section(".gopclntab")
	if sec == nil {
		t.Fatal("no .gopclntab")
	}
	data, err := sec.Data()
	if err != nil {
		t.Fatal(err)
	}
	text := f.Section(".text")
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, n := range names {
		if tab.LookupFunc(n) != nil {
			found = append(found, n)
		}
	}
	if tab.LookupFunc("main.main") == nil {
		t.Fatalf("%s: no main.main in its pclntab: the function table was not read", path)
	}
	return found
}
