package main

import (
	"fmt"

	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopevents/participation/internal/app"
)

func newTokenCommand(cfg *app.Config) *cobra.Command {
	var (
		owner string
		ttl   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "token --owner OWNER_ID",
		Short: "Print an owner token signed with JWT_SECRET, for local use",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if owner == "" {
				return errors.New("--owner is required")
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			jwtSecret, _, err := app.Secrets(*cfg)
			if err != nil {
				return err
			}
			// Issue would cap a longer ttl; an operator asking for one
			// is told instead of handed a shorter token.
			rules := cfg.TokenRules()
			if ttl > rules.MaxTTL {
				return fmt.Errorf("--ttl %s is above JWT_MAX_TTL (%s): the server would refuse the token", ttl, rules.MaxTTL)
			}
			token, err := rules.Issue(jwtSecret, owner, ttl, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), token)
			return nil
		},
	}
	cmd.Flags().StringVar(&owner, "owner", "", "the owner id (the token's sub)")
	cmd.Flags().DurationVar(&ttl, "ttl", 24*time.Hour, "how long the token is valid, at most JWT_MAX_TTL")
	return cmd
}
