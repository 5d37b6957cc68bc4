package app

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/shopevents/participation/beacon"
	"github.com/shopevents/participation/commands"
)

// chainInfoSource gives draw certificates the configured drand chain's
// info (pinned or read once from a relay, through the instance's one beacon
// client), so that anyone checks a round offline. Without drand configured
// there is none (nil).
func chainInfoSource(client *beacon.Client) commands.ChainInfoSource {
	if client == nil {
		return nil
	}
	return func(ctx context.Context, chainHash string) ([]byte, error) {
		if chainHash != client.ChainHash() {
			return nil, fmt.Errorf("chain %s is not DRAND_CHAIN_HASH", chainHash)
		}
		info, err := client.Info(ctx)
		if err != nil {
			return nil, err
		}
		return json.Marshal(info)
	}
}
