package eventstore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
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

// batchItem is one caller's request. state settles a race between the
// caller giving up and a worker taking the request into a batch: whichever
// moves it out of itemQueued first decides, so a caller answered with its
// ctx's error is never written, and a request taken into a batch is answered
// with that batch's outcome.
type batchItem struct {
	ctx   context.Context
	req   AppendRequest
	done  chan batchAnswer
	state atomic.Int32
}

const (
	itemQueued int32 = iota
	itemTaken
	itemAbandoned
)

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
// whose ctx ends before a batch took it is dropped: never written, answered
// with ctx's error. Once a batch took it, Append waits for that batch (at
// most the batch timeout), so the answer always says what happened.
func (b *Batcher) Append(ctx context.Context, req AppendRequest) (AppendResult, error) {
	if err := req.validate(); err != nil {
		return AppendResult{}, err
	}
	item := &batchItem{ctx: ctx, req: req, done: make(chan batchAnswer, 1)}
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
		if item.state.CompareAndSwap(itemQueued, itemAbandoned) {
			return AppendResult{}, ctx.Err()
		}
		a := <-item.done // taken: its batch answers within the batch timeout
		return a.res, a.err
	}
}

// Queued is how many requests wait for a batch (a gauge, and a test's way
// to know a request is queued).
func (b *Batcher) Queued() int { return len(b.queue) }

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
	batch = takeLive(batch)
	if len(batch) == 0 {
		return
	}
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

// takeLive claims the requests whose callers still wait and drops the rest,
// in place: a caller that gave up is gone, and writing its request would
// store what it was told failed.
func takeLive(batch []*batchItem) []*batchItem {
	live := batch[:0]
	for _, it := range batch {
		if err := it.ctx.Err(); err != nil {
			if it.state.CompareAndSwap(itemQueued, itemAbandoned) {
				it.done <- batchAnswer{err: err} // the caller may not have noticed yet
			}
			continue
		}
		if it.state.CompareAndSwap(itemQueued, itemTaken) {
			live = append(live, it)
		}
	}
	return live
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
