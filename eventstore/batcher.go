package eventstore

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Batcher group-commits concurrent appends: requests that arrive while a
// batch is being written wait for the next one, which takes them all in one
// transaction (AppendBatch). A lone request waits for nothing: a worker that
// finds one request writes it at once. Each caller is answered after its
// batch commits, with its own result.
type Batcher struct {
	store    *Store
	queue    chan *batchItem
	maxBatch int
	timeout  time.Duration
	wg       sync.WaitGroup
	stop     chan struct{}
	once     sync.Once
}

// BatcherConfig sizes a Batcher.
type BatcherConfig struct {
	// MaxBatch bounds the requests of one transaction (default 256).
	MaxBatch int
	// Workers is how many batches may be in flight at once (default 4).
	Workers int
	// Timeout bounds one batch's transaction (default 30s).
	Timeout time.Duration
}

type batchItem struct {
	req  AppendRequest
	done chan batchAnswer
}

type batchAnswer struct {
	res AppendResult
	err error
}

// NewBatcher starts the workers; Close stops them.
func (s *Store) NewBatcher(cfg BatcherConfig) *Batcher {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	b := &Batcher{store: s, queue: make(chan *batchItem, cfg.MaxBatch*cfg.Workers), maxBatch: cfg.MaxBatch,
		timeout: cfg.Timeout, stop: make(chan struct{})}
	for range cfg.Workers {
		b.wg.Go(b.work)
	}
	return b
}

// Append queues req for the next batch and waits for its answer. A request
// whose ctx ends while queued is dropped; once its batch is being written the
// answer may still be a success.
func (b *Batcher) Append(ctx context.Context, req AppendRequest) (AppendResult, error) {
	if err := req.validate(); err != nil {
		return AppendResult{}, err
	}
	item := &batchItem{req: req, done: make(chan batchAnswer, 1)}
	select {
	case b.queue <- item:
	case <-ctx.Done():
		return AppendResult{}, ctx.Err()
	case <-b.stop:
		return AppendResult{}, errBatcherClosed
	}
	select {
	case a := <-item.done:
		return a.res, a.err
	case <-ctx.Done():
		return AppendResult{}, ctx.Err()
	}
}

// Close stops taking requests and waits for the batches in flight.
func (b *Batcher) Close() {
	b.once.Do(func() { close(b.stop) })
	b.wg.Wait()
}

var errBatcherClosed = errors.New("eventstore: batcher closed")

func (b *Batcher) work() {
	batch := make([]*batchItem, 0, b.maxBatch)
	for {
		var first *batchItem
		select {
		case first = <-b.queue:
		case <-b.stop:
			b.drainOnStop()
			return
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < b.maxBatch {
			select {
			case it := <-b.queue:
				batch = append(batch, it)
			default:
				break fill
			}
		}
		b.write(batch)
	}
}

func (b *Batcher) write(batch []*batchItem) {
	reqs := make([]AppendRequest, len(batch))
	for i, it := range batch {
		reqs[i] = it.req
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	results, errs, err := b.store.AppendBatch(ctx, reqs)
	for i, it := range batch {
		switch {
		case err != nil:
			it.done <- batchAnswer{err: err}
		default:
			it.done <- batchAnswer{res: results[i], err: errs[i]}
		}
	}
}

// drainOnStop answers what is still queued so that no caller waits forever.
func (b *Batcher) drainOnStop() {
	for {
		select {
		case it := <-b.queue:
			b.write([]*batchItem{it})
		default:
			return
		}
	}
}
