package main

import (
	"context"
	"fmt"
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

// ensureDocker uses a Docker engine that answers, or starts dockerd (as
// root) with its data under .tools/docker; the returned func stops what was
// started.
func ensureDocker(ctx context.Context, root string) (func(), error) {
	if _, err := exec.LookPath("docker"); err != nil {
		return nil, fmt.Errorf("docker not installed (make tools installs Debian's docker.io as root)")
	}
	if _, err := docker(ctx, "info", "--format", "{{.ServerVersion}}"); err == nil {
		return func() {}, nil
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("no Docker engine answers and starting dockerd needs root")
	}
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		return nil, fmt.Errorf("dockerd not installed (make tools installs Debian's docker.io as root)")
	}
	data := filepath.Join(root, ".tools", "docker")
	run, err := os.MkdirTemp("", "claims-docker-")
	if err != nil {
		return nil, err
	}
	sock := filepath.Join(run, "docker.sock")
	logf, _ := os.Create(filepath.Join(run, "dockerd.log"))
	cmd := exec.Command(dockerd, "--host", "unix://"+sock, "--data-root", filepath.Join(data, "data"),
		"--exec-root", filepath.Join(run, "exec"), "--pidfile", filepath.Join(run, "docker.pid"))
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
	os.Setenv("DOCKER_HOST", "unix://"+sock)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := docker(ctx, "info", "--format", "{{.ServerVersion}}"); err == nil {
			return stop, nil
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(run, "dockerd.log"))
			stop()
			return nil, fmt.Errorf("dockerd exited:\n%s", log)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("dockerd did not answer within 30s")
		}
	}
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
	fmt.Printf("imported a busybox-static stand-in as %s (no registry reachable)\n", img)
	return nil
}

// gateway is the bridge network's gateway: the host as containers see it.
// A freshly installed engine may answer before its default bridge has its
// address (seen once on a first start here), so it asks again for a while.
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
