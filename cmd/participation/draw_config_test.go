package main

import (
	"strings"
	"testing"
)

// DRAW_RANDOMNESS and the drand settings reach the config and are
// validated with the rest: a bad one stops every command at start-up.
func TestDrawRandomnessSettingsAreValidated(t *testing.T) {
	const hash = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // "" when the command runs
	}{
		{"local_by_default", nil, nil, ""},
		{"drand_complete", map[string]string{"DRAW_RANDOMNESS": "drand", "DRAND_URLS": "https://api.drand.sh", "DRAND_CHAIN_HASH": hash}, nil, ""},
		{"drand_without_urls", map[string]string{"DRAW_RANDOMNESS": "drand", "DRAND_CHAIN_HASH": hash}, nil, "DRAND_URLS"},
		{"drand_without_hash", map[string]string{"DRAW_RANDOMNESS": "drand", "DRAND_URLS": "https://api.drand.sh"}, nil, "DRAND_CHAIN_HASH"},
		{"unknown_source", map[string]string{"DRAW_RANDOMNESS": "dice"}, nil, "DRAW_RANDOMNESS"},
		{"unparsable_margin", map[string]string{"DRAND_MARGIN": "soon"}, nil, "DRAND_MARGIN"},
		{"unparsable_wait", map[string]string{"DRAW_WAIT": "long"}, nil, "DRAW_WAIT"},
		{"flag_over_env", map[string]string{"DRAW_RANDOMNESS": "dice"}, []string{"--draw-randomness", "local"}, ""},
		{"flag_alone", nil, []string{"--draw-randomness", "drand"}, "DRAND_URLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setSecretEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			root := newRootCommand()
			root.SetArgs(append(tt.args, "token", "--owner", "o"))
			var out strings.Builder
			root.SetOut(&out)
			root.SetErr(&out)
			err := root.Execute()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want one naming %s", err, tt.want)
			}
		})
	}
}
