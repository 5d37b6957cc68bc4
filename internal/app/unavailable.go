package app

import "github.com/shopevents/participation/internal/pgerr"

// dbUnavailable reports whether err says the database is away for now
// (pgerr's class): the API answers the first 503, so a client retries, and
// pgxpool replaces the dead connections by itself once the server is back.
func dbUnavailable(err error) bool { return pgerr.Unavailable(err) }
