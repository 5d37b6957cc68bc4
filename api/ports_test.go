package api_test

import (
	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/commands"
)

// The real command handlers plug straight into the server.
var _ api.Commands = (*commands.Handlers)(nil)
