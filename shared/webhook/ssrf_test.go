package webhook

import (
	"context"
	"errors"
	"net/netip"
	"testing"
)

type fixedResolver map[string][]string

func (f fixedResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, a := range f[host] {
		out = append(out, netip.MustParseAddr(a))
	}
	if len(out) == 0 {
		return nil, errors.New("no such host")
	}
	return out, nil
}

func TestPublicAddresses(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.215.14": true, "2606:2800:21f:cb07:6820:80da:af6b:8b2c": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.0.1": false, "169.254.169.254": false,
		"100.64.1.1": false, "0.0.0.0": false, "255.255.255.255": false, "224.0.0.1": false,
		"::1": false, "::": false, "fe80::1": false, "fc00::1": false, "fd00:ec2::254": false,
		"::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "::ffff:169.254.169.254": false,
		"64:ff9b::a00:1": false, "2002:a00:1::1": false,
	} {
		if got := Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestCheckURLs(t *testing.T) {
	res := fixedResolver{"hooks.example.com": {"93.184.215.14"}, "rebind.example.com": {"93.184.215.14", "10.0.0.1"},
		"mapped.example.com": {"::ffff:192.168.1.1"}, "localhost": {"127.0.0.1"}}
	ctx := context.Background()
	for raw, ok := range map[string]bool{
		"https://hooks.example.com/h":      true,
		"https://hooks.example.com:8443/h": true,
		"http://hooks.example.com/h":       false,
		"https://rebind.example.com/":      false, // any private address refuses the host
		"https://mapped.example.com/":      false,
		"https://unknown.example.com/":     false,
		"https://u:p@hooks.example.com/":   false,
		"https://127.0.0.1/":               false,
		"http://127.0.0.1:8080/":           false, // only under stage local
		"https://[::ffff:7f00:1]/":         false,
	} {
		if _, err := Check(ctx, raw, false, res); (err == nil) != ok {
			t.Errorf("Check(%s) = %v, want ok %v", raw, err, ok)
		}
	}
	for raw, ok := range map[string]bool{"http://127.0.0.1:8080/h": true, "http://localhost/h": true,
		"http://localhost.evil.example/": false, "http://10.0.0.1/": false, "https://localhost/": false} {
		if _, err := Check(ctx, raw, true, res); (err == nil) != ok {
			t.Errorf("local Check(%s) = %v, want ok %v", raw, err, ok)
		}
	}
}
