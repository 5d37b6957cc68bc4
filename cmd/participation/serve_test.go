package main

import (
	"strings"
	"testing"
)

// An unknown role is refused before anything starts, from the flag as from ROLES.
func TestServeRefusesUnknownRoles(t *testing.T) {
	cases := []struct {
		name string
		env  string
		args []string
	}{
		{name: "flag", args: []string{"serve", "--roles", "api,worker"}},
		{name: "env", env: "api,worker", args: []string{"serve"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("ROLES", tc.env)
			t.Setenv("DATA_DIR", t.TempDir()) // nothing may be started there
			cmd := newRootCommand()
			cmd.SetArgs(tc.args)
			var out strings.Builder
			cmd.SetOut(&out)
			err := cmd.Execute()
			if err == nil || !strings.Contains(err.Error(), `unknown role "worker"`) {
				t.Fatalf("serve %v (ROLES=%q) = %v, want an unknown role error", tc.args, tc.env, err)
			}
			if out.Len() > 0 {
				t.Errorf("serve printed %q before refusing", out.String())
			}
		})
	}
}
