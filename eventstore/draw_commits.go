package eventstore

import (
	"context"
	"fmt"
)

// PendingDrawCommits returns every DrawCommitted whose stream has no
// WinnersDrawn after it, in position order: the draws still waiting for
// their randomness (a drand round), which the relay's leader completes.
// The partial index of migration 00060 finds the commits; the stream's
// unique (stream_id, stream_version) index answers the rest.
func (s *Store) PendingDrawCommits(ctx context.Context) ([]RecordedEvent, error) {
	rows, err := s.pool.Query(ctx, sqlSelectEvent+` c WHERE c.type = 'DrawCommitted'
		AND NOT EXISTS (SELECT 1 FROM events w WHERE w.stream_id = c.stream_id
			AND w.stream_version > c.stream_version AND w.type = 'WinnersDrawn')
		ORDER BY c.position`)
	if err != nil {
		return nil, fmt.Errorf("pending draws: %w", err)
	}
	return collectEvents(rows)
}
