package layout

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// A table belongs to the package whose migrations create it, and only that
// package runs SQL on it: others go through its methods. The rule is read
// from the code itself: every package's migrations name the owners, every
// string literal of every non-test Go file (and every migration) is
// searched for SQL naming a table.

// crossings are the known exceptions, each with why it is still there. An
// entry no longer needed fails the test, so the list only shrinks.
var crossings = map[string]string{}

// notService are trees that are not the service: the benchmark harness
// measures the store's tables themselves (baselines, raw reads).
var notService = []string{"bench"}

// sqlTable finds a table named by SQL: the keyword, then the name, maybe
// schema-qualified. Keywords are upper case, as in all of the service's SQL,
// so prose in messages ("read from events") is not taken for SQL.
var sqlTable = regexp.MustCompile(`\b(?:FROM|JOIN|INTO|UPDATE|TABLE|TRUNCATE|COPY)\s+(?:ONLY\s+|IF\s+(?:NOT\s+)?EXISTS\s+)?(?:public\.)?([a-z_][a-z0-9_]*)\b`)

var createTable = regexp.MustCompile(`(?i)\bCREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:public\.)?([a-z_][a-z0-9_]*)`)

func TestEachTableIsUsedByItsOwnerOnly(t *testing.T) {
	root := moduleRoot(t)
	owners := tableOwners(t, root)
	for table, want := range map[string]string{
		"events": "eventstore", "parked_events": "eventstore", "checkpoints": "eventstore", "pii_keys": "eventstore",
		"participants": "projections", "winners": "projections", "notification_outbox": "notifier",
	} {
		if owners[table] != want {
			t.Fatalf("owner of %s = %q, want %q: the migrations were not read as they should be", table, owners[table], want)
		}
	}

	seen := map[string]bool{}
	for _, use := range sqlUses(t, root) {
		owner, ok := owners[use.table]
		if !ok || owner == use.pkg {
			continue
		}
		key := use.file + " " + use.table
		if _, known := crossings[key]; known {
			seen[key] = true
			continue
		}
		t.Errorf("%s:%d: %s runs SQL on %s, a table of %s; call a method of %s instead", use.file, use.line, use.pkg, use.table, owner, owner)
	}
	for key := range crossings {
		if !seen[key] {
			t.Errorf("crossing %q is gone: remove it from crossings", key)
		}
	}
}

// The search itself, on made-up sources: a test that finds nothing because
// it looks wrongly would pass for the wrong reason.
func TestSQLTablesAreFoundInStringLiterals(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"select", "package p\nconst q = `SELECT a FROM events WHERE x`", []string{"events"}},
		{"insert, update, delete", "package p\nvar q = []string{`INSERT INTO parked_events (a) VALUES (1)`, `UPDATE checkpoints SET a = 1`, \"DELETE FROM pii_keys\"}",
			[]string{"parked_events", "checkpoints", "pii_keys"}},
		{"join and schema", "package p\nconst q = `SELECT 1 FROM winners w JOIN public.participants p ON true`", []string{"winners", "participants"}},
		{"copy and truncate", "package p\nconst q = `COPY draw_candidates FROM STDIN; TRUNCATE ONLY streams`", []string{"draw_candidates", "streams"}},
		{"prose and comments are not SQL", "package p\n// SELECT a FROM events\nconst msg = \"read from events\"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, u := range literalUses(t, "p/x.go", tt.src) {
				got = append(got, u.table)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("tables = %v, want %v", got, tt.want)
			}
		})
	}
}

type use struct {
	pkg, file, table string
	line             int
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// tableOwners maps each table to the package whose migrations create it.
func tableOwners(t *testing.T, root string) map[string]string {
	t.Helper()
	owners := map[string]string{}
	walk(t, root, func(rel string) {
		if path.Ext(rel) != ".sql" || path.Base(path.Dir(rel)) != "migrations" {
			return
		}
		pkg := path.Dir(path.Dir(rel))
		for _, m := range createTable.FindAllStringSubmatch(read(t, root, rel), -1) {
			if prev, ok := owners[m[1]]; ok && prev != pkg {
				t.Errorf("table %s is created by %s and %s", m[1], prev, pkg)
			}
			owners[m[1]] = pkg
		}
	})
	return owners
}

// sqlUses lists the tables named by SQL in non-test Go files and in
// migrations.
func sqlUses(t *testing.T, root string) []use {
	t.Helper()
	var uses []use
	walk(t, root, func(rel string) {
		switch {
		case strings.HasSuffix(rel, "_test.go"):
		case path.Ext(rel) == ".go":
			uses = append(uses, literalUses(t, rel, read(t, root, rel))...)
		case path.Ext(rel) == ".sql" && path.Base(path.Dir(rel)) == "migrations":
			for i, line := range strings.Split(read(t, root, rel), "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "--") {
					continue
				}
				for _, m := range sqlTable.FindAllStringSubmatch(line, -1) {
					uses = append(uses, use{pkg: path.Dir(path.Dir(rel)), file: rel, table: m[1], line: i + 1})
				}
			}
		}
	})
	return uses
}

// literalUses parses a Go file and searches its string literals, so that
// comments, which may well say "FROM events", are not taken for SQL.
func literalUses(t *testing.T, rel, src string) []use {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, rel, src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("parse %s: %v", rel, err)
	}
	var uses []use
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatalf("%s: %v", fset.Position(lit.Pos()), err)
		}
		for _, m := range sqlTable.FindAllStringSubmatch(s, -1) {
			uses = append(uses, use{pkg: path.Dir(rel), file: rel, table: m[1], line: fset.Position(lit.Pos()).Line})
		}
		return true
	})
	return uses
}

// walk calls fn with the slash-separated path, from root, of every file of
// the service's packages.
func walk(t *testing.T, root string, fn func(rel string)) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if rel != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || slices.Contains(notService, rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		fn(rel)
		return nil
	})
	if err != nil {
		t.Fatal(fmt.Errorf("walk %s: %w", root, err))
	}
}

func read(t *testing.T, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
