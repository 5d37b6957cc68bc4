package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// freshDatabase (re)creates a database on the same server as DATABASE_URL
// and returns its URL and a pool over it.
func (e *env) freshDatabase(name string, maxConns int32) (string, *pgxpool.Pool, error) {
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := e.admin.Exec(e.ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return "", nil, fmt.Errorf("drop database %s: %w", name, err)
	}
	if _, err := e.admin.Exec(e.ctx, "CREATE DATABASE "+ident); err != nil {
		return "", nil, fmt.Errorf("create database %s (the user needs CREATEDB): %w", name, err)
	}
	u, err := withDatabase(e.rootURL, name)
	if err != nil {
		return "", nil, err
	}
	cfg, err := pgxpool.ParseConfig(u)
	if err != nil {
		return "", nil, err
	}
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(e.ctx, cfg)
	if err != nil {
		return "", nil, err
	}
	return u, pool, nil
}

// withDatabase replaces the database of a postgres:// URL.
func withDatabase(raw, name string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("DATABASE_URL must be a postgres:// URL")
	}
	u.Path = "/" + name
	u.RawPath = ""
	q := u.Query()
	if q.Has("dbname") {
		q.Set("dbname", name)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
