package relay_test

import (
	"testing"

	"github.com/shopevents/participation/relay"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		cfg     relay.Config
		wantErr bool
	}{
		{"topic_and_brokers_are_enough", relay.Config{Topic: "t", Brokers: []string{"b:9092"}}, false},
		{"no_topic", relay.Config{Brokers: []string{"b:9092"}}, true},
		{"no_brokers_and_no_connect", relay.Config{Topic: "t"}, true},
		{"too_many_partitions", relay.Config{Topic: "t", Brokers: []string{"b"}, Partitions: 20_000}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.cfg.Validate(); (err != nil) != tc.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}
