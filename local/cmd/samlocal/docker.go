package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func docker(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// BridgeIP is the default bridge's gateway address (and prefix) given to a
// Docker engine samlocal starts itself (dockerd --bip): fixed, so that the
// engine never has to pick one, which a freshly installed engine was seen
// not to have done 15 s after it answered. 198.18.0.0/15 is reserved for
// benchmarking (RFC 2544) and not routed, so it does not collide with a
// LAN, a VPN or a cloud VPC. CLAIMS_DOCKER_BIP overrides it.
const BridgeIP = "198.18.213.1/24"

// ensureDocker uses a Docker engine that answers, or starts dockerd (as
// root) with its data under .tools/docker (CLAIMS_DOCKER_DATA overrides);
// it returns the bridge's gateway, the host as containers see it, and a
// func that stops what was started.
func ensureDocker(ctx context.Context, root string) (string, func(), error) {
	if _, err := exec.LookPath("docker"); err != nil {
		return "", nil, fmt.Errorf("docker not installed (make tools installs Debian's docker.io as root)")
	}
	if _, err := docker(ctx, "info", "--format", "{{.ServerVersion}}"); err == nil {
		gw, err := gateway(ctx)
		return gw, func() {}, err
	}
	data := os.Getenv("CLAIMS_DOCKER_DATA")
	if data == "" {
		data = filepath.Join(root, ".tools", "docker")
	}
	// runc refuses a container's root file system reached through a
	// symlink ("invalid rootfs"): a .tools linked from another checkout.
	if err := os.MkdirAll(data, 0o755); err != nil {
		return "", nil, err
	}
	if real, err := filepath.EvalSymlinks(data); err == nil {
		data = real
	}
	bip := os.Getenv("CLAIMS_DOCKER_BIP")
	if bip == "" {
		bip = BridgeIP
	}
	e, err := startEngine(ctx, data, bip)
	if err != nil {
		return "", nil, err
	}
	os.Setenv("DOCKER_HOST", e.Host)
	return e.Gateway, e.Stop, nil
}

// engine is a dockerd samlocal started.
type engine struct {
	Host    string // DOCKER_HOST: a socket in a temporary folder
	Gateway string // the default bridge's gateway address
	Stop    func()
	Ready   time.Duration // from start to ready
}

// startEngine starts dockerd (as root) with its data under data and the
// default bridge on bip, and returns once what sam local needs holds: the
// engine answers on its socket, it reports bip's address as the bridge's
// gateway, and the host has that address on an interface (containers reach
// the host's emulators there). It waits on those, not on time.
func startEngine(ctx context.Context, data, bip string) (*engine, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("no Docker engine answers and starting dockerd needs root")
	}
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		return nil, fmt.Errorf("dockerd not installed (make tools installs Debian's docker.io as root)")
	}
	prefix, err := netip.ParsePrefix(bip)
	if err != nil || !prefix.Addr().Is4() {
		return nil, fmt.Errorf("bridge address %q: want an IPv4 address with its prefix, e.g. %s", bip, BridgeIP)
	}
	gw := prefix.Addr().String()
	run, err := os.MkdirTemp("", "claims-docker-")
	if err != nil {
		return nil, err
	}
	sock := filepath.Join(run, "docker.sock")
	logf, _ := os.Create(filepath.Join(run, "dockerd.log"))
	started := time.Now()
	cmd := exec.Command(dockerd, "--host", "unix://"+sock, "--data-root", filepath.Join(data, "data"),
		"--exec-root", filepath.Join(run, "exec"), "--pidfile", filepath.Join(run, "docker.pid"), "--bip", bip)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dockerd: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if logf != nil {
			logf.Close()
		}
		os.RemoveAll(run)
	}
	host := "unix://" + sock
	cli := func(args ...string) (string, error) {
		c := exec.CommandContext(ctx, "docker", args...)
		c.Env = append(os.Environ(), "DOCKER_HOST="+host)
		out, err := c.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	var waiting string
	for deadline := time.Now().Add(60 * time.Second); ; {
		waiting = engineReady(cli, gw)
		if waiting == "" {
			return &engine{Host: host, Gateway: gw, Stop: stop, Ready: time.Since(started)}, nil
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(run, "dockerd.log"))
			stop()
			return nil, fmt.Errorf("dockerd exited:\n%s", log)
		case <-ctx.Done():
			stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(run, "dockerd.log"))
			stop()
			return nil, fmt.Errorf("dockerd not ready within 60s: %s\n%s", waiting, log)
		}
	}
}

// engineReady says what a started engine still lacks ("" when nothing).
func engineReady(cli func(...string) (string, error), gw string) string {
	if out, err := cli("info", "--format", "{{.ServerVersion}}"); err != nil {
		return "the engine does not answer: " + out
	}
	got, err := cli("network", "inspect", "bridge", "--format", "{{range .IPAM.Config}}{{.Gateway}}{{end}}")
	if err != nil || got != gw {
		return fmt.Sprintf("the bridge's gateway is %q, want %s", got, gw)
	}
	if !hostHas(gw) {
		return "no interface of the host has " + gw + " yet"
	}
	return ""
}

// hostHas reports whether an interface of this host has address ip.
func hostHas(ip string) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.String() == ip {
			return true
		}
	}
	return false
}

// baseImage is the tag SAM runs provided.al2023 functions on.
func baseImage() string { return "public.ecr.aws/lambda/provided:al2023-" + arch() }

// ensureBaseImage pulls SAM's base image, or imports a busybox-static
// stand-in under its tag when no registry answers.
func ensureBaseImage(ctx context.Context) error {
	img := baseImage()
	if _, err := docker(ctx, "image", "inspect", img); err == nil {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := docker(pctx, "pull", img); err == nil {
		return nil
	}
	if err := importStandIn(ctx, img); err != nil {
		return err
	}
	fmt.Printf("imported a busybox-static stand-in as %s (no registry reachable)\n", img)
	return nil
}

// importStandIn imports a busybox-static root filesystem as image img.
func importStandIn(ctx context.Context, img string) error {
	busybox := ""
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if out, err := exec.Command(p, "--help").CombinedOutput(); err == nil || strings.Contains(string(out), "BusyBox") {
			busybox = p
			break
		}
	}
	if busybox == "" {
		return fmt.Errorf("cannot pull %s and busybox-static is not installed for a stand-in", img)
	}
	dir, err := os.MkdirTemp("", "claims-rootfs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, d := range []string{"bin", "tmp", "etc", "var/task", "var/runtime", "var/rapid", "opt"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	b, err := os.ReadFile(busybox)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "busybox"), b, 0o755); err != nil {
		return err
	}
	for _, c := range []string{"sh", "mv", "chmod", "cp", "mkdir", "ls", "cat", "rm", "ln", "env"} {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", c)); err != nil {
			return err
		}
	}
	_ = os.WriteFile(filepath.Join(dir, "etc", "passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	if ca, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt"); err == nil {
		_ = os.MkdirAll(filepath.Join(dir, "etc", "ssl", "certs"), 0o755)
		_ = os.WriteFile(filepath.Join(dir, "etc", "ssl", "certs", "ca-certificates.crt"), ca, 0o644)
	}
	tar := filepath.Join(os.TempDir(), fmt.Sprintf("claims-rootfs-%d.tar", os.Getpid()))
	defer os.Remove(tar)
	if out, err := exec.CommandContext(ctx, "tar", "-C", dir, "-cf", tar, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("tar: %v %s", err, out)
	}
	if out, err := docker(ctx, "import", "-c", "ENV PATH=/bin:/usr/local/bin:/usr/bin", tar, img); err != nil {
		return fmt.Errorf("docker import: %v %s", err, out)
	}
	return nil
}

// gateway is the bridge network's gateway of an engine samlocal did not
// start (and so cannot give a fixed address): the host as containers see
// it. Such an engine may answer before its default bridge has its address,
// so it asks again for a while.
func gateway(ctx context.Context) (string, error) {
	var gw string
	var err error
	for deadline := time.Now().Add(15 * time.Second); ; {
		gw, err = docker(ctx, "network", "inspect", "bridge", "--format", "{{range .IPAM.Config}}{{.Gateway}}{{end}}")
		if err == nil && gw != "" {
			return gw, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("docker bridge network has no gateway address: %v %s", err, gw)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}
