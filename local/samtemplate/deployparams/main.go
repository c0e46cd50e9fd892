// Command deployparams prints the --parameter-overrides of `make deploy`:
// the environment's own list from samconfig.toml followed by the deployer's
// (DEPLOY_PARAMS), checked against template.yaml (samtemplate.DeployOverrides).
//
//	deployparams -env prod -- JwtIssuer=https://... SenderEmail=...
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cpor-claims/claims/local/samtemplate"
)

func main() {
	env := flag.String("env", "", "dev or prod (samconfig.toml's environment)")
	root := flag.String("root", ".", "the folder holding template.yaml and samconfig.toml")
	flag.Parse()
	if *env != "dev" && *env != "prod" {
		fail("deployparams: -env dev|prod")
	}
	t, err := samtemplate.Load(filepath.Join(*root, "template.yaml"))
	if err != nil {
		fail("deployparams: %v", err)
	}
	cfg, err := os.ReadFile(filepath.Join(*root, "samconfig.toml"))
	if err != nil {
		fail("deployparams: %v", err)
	}
	out, err := samtemplate.DeployOverrides(t, cfg, *env, flag.Args())
	if err != nil {
		fail("make deploy ENV=%s: %v", *env, err)
	}
	fmt.Println(out)
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
	os.Exit(2)
}
