// Command checkbin checks the binaries `sam build` produced: one bootstrap
// per function, a static (no interpreter, no dynamic section), stripped
// ELF for the architecture asked, within the size budget.
package main

import (
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	arch := flag.String("arch", "arm64", "arm64 or x86_64")
	maxMB := flag.Float64("max-mb", 0, "fail above this size (0: report only)")
	flag.Parse()
	want := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "x86_64": elf.EM_X86_64}[*arch]
	bins, _ := filepath.Glob(filepath.Join(flag.Arg(0), "*", "bootstrap"))
	if len(bins) == 0 {
		fail("no bootstrap under %s", flag.Arg(0))
	}
	bad := false
	for _, b := range bins {
		f, err := elf.Open(b)
		if err != nil {
			fail("%s: %v", b, err)
		}
		st, _ := os.Stat(b)
		mb := float64(st.Size()) / (1 << 20)
		var problems []string
		if f.Machine != want {
			problems = append(problems, "machine "+f.Machine.String())
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				problems = append(problems, "dynamically linked")
				break
			}
		}
		for _, s := range f.Sections {
			if strings.HasPrefix(s.Name, ".debug") || s.Name == ".symtab" {
				problems = append(problems, "not stripped ("+s.Name+")")
				break
			}
		}
		if *maxMB > 0 && mb > *maxMB {
			problems = append(problems, fmt.Sprintf("%.1f MB > %.0f MB", mb, *maxMB))
		}
		f.Close()
		status := "ok"
		if len(problems) > 0 {
			status, bad = strings.Join(problems, ", "), true
		}
		fmt.Printf("%-20s %-8s %6.1f MB  %s\n", filepath.Base(filepath.Dir(b)), *arch, mb, status)
	}
	if bad {
		os.Exit(1)
	}
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
	os.Exit(1)
}
