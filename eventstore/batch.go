package eventstore

import "context"

// AppendBatch appends many independent requests in ONE transaction and
// answers each on its own: a request that conflicts (wrong expected version,
// a duplicate key, a closed fence) fails alone and the others commit. The
// conflicts are detected set-wise, without failing statements, so one bad
// request never rolls back its neighbours. The returned slices are indexed
// like reqs; an error returned as the second value failed the whole batch.
func (s *Store) AppendBatch(ctx context.Context, reqs []AppendRequest) ([]AppendResult, []error, error) {
	results := make([]AppendResult, len(reqs))
	errs := make([]error, len(reqs))
	if err := appendAll(ctx, s.pool, false, reqs, results, errs); err != nil {
		return nil, nil, err
	}
	return results, errs, nil
}
