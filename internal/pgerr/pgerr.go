// Package pgerr is the one classification of PostgreSQL's errors by
// SQLSTATE (https://www.postgresql.org/docs/current/errcodes-appendix.html):
// which refusals are for good, which ask for the transaction again, and
// which say the server is away for now. Callers decide what to do with a
// class; the codes live here alone.
package pgerr

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// The SQLSTATEs the service tells apart by name.
const (
	UniqueViolation      = "23505"
	SerializationFailure = "40001"
	DeadlockDetected     = "40P01"
	LockNotAvailable     = "55P03"
	TooManyConnections   = "53300"
	CannotConnectNow     = "57P03"
	InvalidPassword      = "28P01"
	InvalidAuthorization = "28000"
	InvalidCatalogName   = "3D000" // no such database
)

// As returns the PostgreSQL error in err's chain, if there is one.
func As(err error) (*pgconn.PgError, bool) {
	var pgErr *pgconn.PgError
	ok := errors.As(err, &pgErr)
	return pgErr, ok
}

// Code returns the SQLSTATE of the PostgreSQL error in err's chain, or ""
// when the error is not the server's.
func Code(err error) string {
	if pgErr, ok := As(err); ok {
		return pgErr.Code
	}
	return ""
}

// Is reports whether err is a PostgreSQL error with one of codes.
func Is(err error, codes ...string) bool {
	code := Code(err)
	for _, c := range codes {
		if code != "" && code == c {
			return true
		}
	}
	return false
}

// Permanent reports whether PostgreSQL refused the data itself (class 22,
// data exception; class 23, integrity constraint violation): running the
// same statement again cannot help.
func Permanent(err error) bool {
	code := Code(err)
	return strings.HasPrefix(code, "22") || strings.HasPrefix(code, "23")
}

// Retry reports whether the transaction lost to another one (a
// serialization failure, a deadlock, a lock not had in time) and left
// nothing behind, so it may run again as it is.
func Retry(err error) bool {
	return Is(err, SerializationFailure, DeadlockDetected, LockNotAvailable)
}

// Unavailable reports whether err says the database is away for now
// (refused, shutting down, starting up, too many connections, the
// connection cut or timed out) rather than that a statement is wrong.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if code := Code(err); code != "" {
		// 08: connection exception; 57P01-57P05: shutting down, crashed,
		// cannot connect now (starting up), idle or session timeout.
		return strings.HasPrefix(code, "08") || strings.HasPrefix(code, "57P") || code == TooManyConnections
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		pgconn.Timeout(err)
}

// Refusal says in words why the server refused a connection, naming no
// user, password or option.
func Refusal(code string) string {
	switch code {
	case InvalidPassword:
		return "password authentication failed"
	case InvalidAuthorization:
		return "not authorized (no such role, or pg_hba.conf refuses it)"
	case InvalidCatalogName:
		return "no such database"
	case TooManyConnections:
		return "too many connections"
	case CannotConnectNow:
		return "the server is starting up or shutting down"
	}
	return "an error"
}
