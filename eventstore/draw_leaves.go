package eventstore

import (
	"context"
	"fmt"
)

// sqlLeafCandidates is a campaign's candidates as they stood at a cut-off,
// in the v2 draw's leaf order (entry number bytewise, then participant id,
// as domain's compareCandidates): registered by then and not erased by
// then, visited by then or not. A visit or an erasure after the draw
// leaves the committed leaves as they were.
const sqlLeafCandidates = `SELECT entry_number, coalesce(visited_position <= $2, false)
	FROM draw_candidates
	WHERE event_id = $1 AND registered_position <= $2 AND (erased_position IS NULL OR erased_position > $2)
	ORDER BY entry_number COLLATE "C", participant_id`

// EachLeafCandidate calls fn with each candidate of the campaign at cutoff,
// in leaf order, streaming from the server in constant memory. entry is
// only valid during the call. It stops at fn's first error and returns it.
func (s *Store) EachLeafCandidate(ctx context.Context, eventID string, cutoff int64, fn func(entry []byte, visited bool) error) error {
	rows, err := s.pool.Query(ctx, sqlLeafCandidates, eventID, cutoff)
	if err != nil {
		return fmt.Errorf("leaf candidates: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		// raw values: a million rows without a million strings
		vals := rows.RawValues()
		if len(vals) != 2 || len(vals[1]) != 1 {
			return fmt.Errorf("leaf candidates: unexpected row shape")
		}
		if err := fn(vals[0], vals[1][0] == 1); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("leaf candidates: %w", err)
	}
	return nil
}
