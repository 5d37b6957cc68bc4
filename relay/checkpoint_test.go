package relay_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopevents/participation/internal/testenv"
	"github.com/shopevents/participation/relay"
)

// countCheckpointWrites makes the database count every write of the named
// checkpoint row (a trigger of the test's own, beside the relay's table).
func countCheckpointWrites(t *testing.T, pool *pgxpool.Pool, name string) func() int {
	t.Helper()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE checkpoint_writes (position bigint NOT NULL);
		CREATE FUNCTION count_checkpoint_write() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN INSERT INTO checkpoint_writes VALUES (NEW.position); RETURN NULL; END $$;
		CREATE TRIGGER counted AFTER INSERT OR UPDATE ON checkpoints FOR EACH ROW
			WHEN (NEW.name = '`+name+`') EXECUTE FUNCTION count_checkpoint_write();`); err != nil {
		t.Fatal(err)
	}
	return func() int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM checkpoint_writes`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
}

// While events keep coming, the relay makes its position durable every
// 200 ms at most, not after each batch (each save is a durable commit of
// its own); stopping it saves the last position, so nothing it published
// is published again by the next leader.
func TestTheRelayCheckpointsEvery200msAtMostAndOnceMoreWhenItStops(t *testing.T) {
	t.Parallel()
	store, pool := newStoreAndPool(t)
	brokers, topic := testenv.KafkaBrokers(t), testenv.Topic(t)
	writes := countCheckpointWrites(t, pool, "kafka-relay")
	campaigns := []string{uuid.NewString(), uuid.NewString()}

	r, stop := startRelay(t, store, relay.Config{Topic: topic, Brokers: brokers})
	waitFor(t, "a leader", r.Leader)
	start := time.Now()
	for time.Since(start) < 1500*time.Millisecond { // many small batches, one after another
		appendEvents(t, store, campaigns, 1)
	}
	waitFor(t, "the relay publishes everything", caughtUp(t, store, r))
	stop()
	elapsed := time.Since(start)

	if got, most := writes(), int(elapsed/(200*time.Millisecond))+2; got > most {
		t.Errorf("%d checkpoint writes in %v, want at most %d (one per 200 ms and the last)", got, elapsed.Round(time.Millisecond), most)
	}
	head, err := store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cp, err := store.Checkpoint(context.Background(), "kafka-relay"); err != nil || cp != head {
		t.Errorf("checkpoint after stopping = %d (%v), want the head %d", cp, err, head)
	}
}
