package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestChromiumLookup: the browser tests and make test's preflight look for
// the same browsers. Each name alone on PATH is found by both; with none,
// the preflight says so.
func TestChromiumLookup(t *testing.T) {
	script := filepath.Join(repoRoot(t), "deploy", "test-prereqs.sh")
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^browsers=\(([^)]*)\)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("test-prereqs.sh has no browsers=(...) list")
	}
	if listed := strings.Fields(string(m[1])); !slices.Equal(listed, chromiumNames) {
		t.Fatalf("test-prereqs.sh looks for %v, the browser tests for %v", listed, chromiumNames)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	grep, err := exec.LookPath("grep")
	if err != nil {
		t.Fatal(err)
	}

	// preflight runs the script with only grep and the fake browsers on PATH.
	preflight := func(dir string) (string, error) {
		if err := os.Symlink(grep, filepath.Join(dir, "grep")); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
		cmd := exec.Command(bash, script, "")
		cmd.Dir = repoRoot(t)
		cmd.Env = []string{"PATH=" + dir, "DATABASE_URL=postgres://unused"}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	for _, name := range chromiumNames {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			fake := filepath.Join(dir, name)
			if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv("PATH", dir)
			t.Setenv("CHROMIUM", "")
			if got, err := findChromium(); err != nil || got != fake {
				t.Errorf("findChromium = %q, %v; want %s", got, err, fake)
			}
			if out, err := preflight(dir); err != nil {
				t.Errorf("the preflight refuses %s alone: %v\n%s", name, err, out)
			}
		})
	}

	t.Run("none", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("PATH", dir)
		t.Setenv("CHROMIUM", "")
		if _, err := findChromium(); err == nil {
			t.Error("findChromium found a browser on an empty PATH")
		}
		out, err := preflight(dir)
		if err == nil || !strings.Contains(out, "apt-get install chromium") {
			t.Errorf("the preflight with no browser: %v\n%s", err, out)
		}
	})
}
