package projections

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// shadowTables are the tables a rebuild creates in its schema: the read
// models and a projection_positions of its own.
func (r *rebuild) shadowTables() []string {
	return append(append([]string(nil), r.tables...), "projection_positions")
}

// createShadow creates the shadow schema with each table as the live one
// is (columns, defaults, checks, storage, owner and grants), but without
// indexes: the replay writes faster into bare tables and buildIndexes adds
// them after. Autovacuum stays away from them until then: it would only
// compete with the replay and hold up the index builds.
func (r *rebuild) createShadow(ctx context.Context) error {
	r.reloptions = map[string][]string{}
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{r.schema}.Sanitize()); err != nil {
			return fmt.Errorf("rebuild: create schema: %w", err)
		}
		for _, t := range r.shadowTables() {
			if err := checkRebuildable(ctx, tx, t); err != nil {
				return err
			}
			live := pgx.Identifier{"public", t}.Sanitize()
			if _, err := tx.Exec(ctx, "CREATE TABLE "+r.ident(t)+" (LIKE "+live+" INCLUDING ALL EXCLUDING INDEXES)"+
				" WITH (autovacuum_enabled = false)"); err != nil {
				return fmt.Errorf("rebuild: create %s: %w", t, err)
			}
			var options []string
			if err := tx.QueryRow(ctx, `SELECT coalesce(reloptions, '{}') FROM pg_class WHERE oid = $1::regclass`,
				live).Scan(&options); err != nil {
				return fmt.Errorf("rebuild: options of %s: %w", t, err)
			}
			r.reloptions[t] = options
			if err := copyPrivileges(ctx, tx, live, r.ident(t)); err != nil {
				return fmt.Errorf("rebuild: privileges of %s: %w", t, err)
			}
		}
		return nil
	})
}

// checkRebuildable refuses what a copy made with LIKE would lose or get
// wrong: triggers, row security, sequences behind defaults or identities.
func checkRebuildable(ctx context.Context, tx pgx.Tx, table string) error {
	var problems []string
	err := tx.QueryRow(ctx, `SELECT array_remove(ARRAY[
		CASE WHEN EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = c.oid AND NOT tgisinternal) THEN 'triggers' END,
		CASE WHEN c.relrowsecurity THEN 'row level security' END,
		CASE WHEN EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = c.oid AND attidentity <> '') THEN 'identity columns' END,
		CASE WHEN EXISTS (SELECT 1 FROM pg_attrdef WHERE adrelid = c.oid AND pg_get_expr(adbin, adrelid) LIKE '%nextval(%')
			THEN 'sequence defaults' END], NULL)
		FROM pg_class c WHERE c.oid = $1::regclass`, "public."+table).Scan(&problems)
	if err != nil {
		return fmt.Errorf("rebuild: inspect %s: %w", table, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("rebuild: table %s has %s, which a rebuild does not carry over", table, strings.Join(problems, ", "))
	}
	return nil
}

func copyPrivileges(ctx context.Context, tx pgx.Tx, live, shadow string) error {
	rows, err := tx.Query(ctx, `SELECT 'ALTER TABLE {table} OWNER TO ' || quote_ident(pg_get_userbyid(c.relowner))
		FROM pg_class c WHERE c.oid = $1::regclass AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
		UNION ALL
		SELECT 'GRANT ' || a.privilege_type || ' ON {table} TO ' ||
			CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END ||
			CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END
		FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = $1::regclass AND a.grantee <> c.relowner`, live)
	if err != nil {
		return err
	}
	stmts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, strings.Replace(s, "{table}", shadow, 1)); err != nil {
			return err
		}
	}
	return nil
}

// indexDef is an index of a live table and, when it backs one, its constraint.
type indexDef struct {
	table, name, def                   string
	constraint, contype, constraintDef string
	deferrable                         bool
}

// buildIndexes gives the shadow tables the live tables' indexes and
// constraints under the same names (the shadow schema keeps them apart
// until the swap), two at a time, then analyzes them so that queries plan
// well from the swap on.
func (r *rebuild) buildIndexes(ctx context.Context) error {
	rows, err := r.pool.Query(ctx, `SELECT ct.relname, ci.relname, pg_get_indexdef(i.indexrelid),
			coalesce(con.conname, ''), coalesce(con.contype::text, ''),
			coalesce(pg_get_constraintdef(con.oid), ''), coalesce(con.condeferrable, false)
		FROM pg_index i
		JOIN pg_class ct ON ct.oid = i.indrelid
		JOIN pg_class ci ON ci.oid = i.indexrelid
		LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
		WHERE ct.relnamespace = 'public'::regnamespace AND ct.relname = ANY($1)
		-- the largest table's indexes first: they take longest
		ORDER BY pg_relation_size((quote_ident($2) || '.' || quote_ident(ct.relname))::regclass) DESC, ci.relname`,
		r.shadowTables(), r.schema)
	if err != nil {
		return fmt.Errorf("rebuild: indexes: %w", err)
	}
	defs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (indexDef, error) {
		var d indexDef
		err := row.Scan(&d.table, &d.name, &d.def, &d.constraint, &d.contype, &d.constraintDef, &d.deferrable)
		return d, err
	})
	if err != nil {
		return fmt.Errorf("rebuild: indexes: %w", err)
	}
	var builds, constraints []string
	for _, d := range defs {
		if d.contype == "x" || d.deferrable {
			constraints = append(constraints, "ALTER TABLE "+r.ident(d.table)+" ADD CONSTRAINT "+
				pgx.Identifier{d.constraint}.Sanitize()+" "+d.constraintDef)
			continue
		}
		on := " ON public." + d.table + " USING "
		if strings.Count(d.def, on) != 1 {
			return fmt.Errorf("rebuild: cannot read the definition of index %s: %s", d.name, d.def)
		}
		builds = append(builds, strings.Replace(d.def, on, " ON "+r.ident(d.table)+" USING ", 1))
		switch d.contype {
		case "p", "u":
			kind := map[string]string{"p": "PRIMARY KEY", "u": "UNIQUE"}[d.contype]
			constraints = append(constraints, "ALTER TABLE "+r.ident(d.table)+" ADD CONSTRAINT "+
				pgx.Identifier{d.constraint}.Sanitize()+" "+kind+" USING INDEX "+pgx.Identifier{d.name}.Sanitize())
		}
	}
	work := make(chan string, len(builds))
	for _, b := range builds {
		work <- b
	}
	close(work)
	g, gctx := errgroup.WithContext(ctx)
	for range 2 {
		g.Go(func() error {
			for sql := range work {
				err := pgx.BeginFunc(gctx, r.pool, func(tx pgx.Tx) error {
					if _, err := tx.Exec(gctx, "SET LOCAL maintenance_work_mem = '256MB'"); err != nil {
						return err
					}
					_, err := tx.Exec(gctx, sql)
					return err
				})
				if err != nil {
					return fmt.Errorf("rebuild: %s: %w", sql, err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		for _, sql := range constraints {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("rebuild: %s: %w", sql, err)
			}
		}
		for _, t := range r.shadowTables() {
			if _, err := tx.Exec(ctx, "ANALYZE "+r.ident(t)); err != nil {
				return fmt.Errorf("rebuild: analyze %s: %w", t, err)
			}
			sql := "ALTER TABLE " + r.ident(t) + " RESET (autovacuum_enabled)"
			if opts := r.reloptions[t]; len(opts) > 0 {
				sql += ", SET (" + strings.Join(opts, ", ") + ")"
			}
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("rebuild: options of %s: %w", t, err)
			}
		}
		return nil
	})
}

// dropShadow drops the shadow schema, also when ctx has ended (Ctrl-C).
func (r *rebuild) dropShadow(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if _, err := r.pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{r.schema}.Sanitize()+" CASCADE"); err != nil {
		r.logger.ErrorContext(ctx, "projections rebuild: shadow schema not dropped; the next rebuild drops it",
			"schema", r.schema, "error", err)
	}
}

// dropLeftovers drops the schemas of rebuilds that died (the advisory lock
// says none is running).
func (r *rebuild) dropLeftovers(ctx context.Context) error {
	rows, err := r.pool.Query(ctx, `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, shadowPrefix)
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	for _, s := range schemas {
		r.logger.InfoContext(ctx, "projections rebuild: dropping a dead rebuild's schema", "schema", s)
		if _, err := r.pool.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{s}.Sanitize()+" CASCADE"); err != nil {
			return fmt.Errorf("rebuild: drop %s: %w", s, err)
		}
	}
	return nil
}
