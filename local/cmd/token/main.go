// Command token prints a local JWT (HS256 with LOCAL_JWT_SECRET) for a
// sample partner admin, or for what the flags say.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cpor-claims/claims/local/runner"
)

func main() {
	claims := runner.SampleClaims(time.Now())
	partner := flag.String("partner", claims["partner_id"].(string), "partner_id")
	name := flag.String("name", claims["partner_name"].(string), "partner_name")
	sub := flag.String("sub", claims["sub"].(string), "sub")
	mpn := flag.String("mpn", "1234567", "mpn_ids, comma-separated")
	roles := flag.String("roles", "IncentivesAdmin", "roles, comma-separated (empty: a reader)")
	ttl := flag.Duration("ttl", 12*time.Hour, "lifetime")
	flag.Parse()
	claims["partner_id"], claims["partner_name"], claims["sub"] = *partner, *name, *sub
	claims["mpn_ids"] = split(*mpn)
	claims["roles"] = split(*roles)
	claims["exp"] = time.Now().Add(*ttl).Unix()
	secret := os.Getenv("LOCAL_JWT_SECRET")
	if secret == "" {
		secret = runner.DefaultJWTSecret
	}
	a := &runner.Authorizer{Secret: []byte(secret)}
	tok, err := a.Token(claims)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(tok)
}

func split(s string) []any {
	out := []any{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
