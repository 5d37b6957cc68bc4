package app

import (
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shopevents/participation/internal/testenv"
)

// A connection that fails is told with the host and database only, as the
// banner shows them: pgx's message names the user, the server's may name
// the user too; the password and the options never appear. The cause stays
// in the error chain.
func TestConnectErrorsShowHostAndDatabaseOnly(t *testing.T) {
	t.Parallel()
	refusing, err := url.Parse(testenv.Database(t)) // a real server, asked for a role it lacks
	if err != nil {
		t.Fatal(err)
	}
	refusing.User = url.UserPassword("nosuchrole", "s3cret")
	q := refusing.Query()
	q.Set("application_name", "leaky-option")
	refusing.RawQuery = q.Encode()
	port := strconv.Itoa(testenv.FreePort(t))
	cases := []struct {
		name, url, want string
	}{
		{"nothing_listens", "postgres://app:s3cret@127.0.0.1:" + port + "/shop?sslmode=disable&application_name=leaky-option", "connect to 127.0.0.1:" + port + "/shop: "},
		{"server_refuses_the_role", refusing.String(), "connect to " + refusing.Host + refusing.Path + ": the server refused: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db, err := OpenDatabase(t.Context(), Config{DatabaseURL: tc.url}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err == nil {
				db.Close()
				t.Fatal("connected")
			}
			msg := err.Error()
			t.Logf("%s", msg)
			if !strings.HasPrefix(msg, tc.want) {
				t.Errorf("error %q, want it to start %q", msg, tc.want)
			}
			for _, secret := range []string{"user=", "nosuchrole", "app:", "s3cret", "leaky-option"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q shows %q", msg, secret)
				}
			}
			if !errors.As(err, new(*pgconn.ConnectError)) {
				t.Errorf("error %q lost pgx's error from its chain", msg)
			}
		})
	}
}
