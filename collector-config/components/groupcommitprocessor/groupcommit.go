// Package groupcommitprocessor merges concurrent requests of a metrics pipeline into one call of
// the next consumer (group commit), with no timer and no added latency for a lone request.
//
// Why: the exporter's persistent sending queue stores each call it receives as one item: one
// bbolt write transaction on receipt, then one read and one delete transaction, each rewriting
// the queue's metadata record. With one item per heartbeat request that was about a third of
// the collector's CPU. Merged, N concurrent requests cost one item.
//
// How: only one group is written at a time (the write slot).
//   - A request that finds an open group (one that takes joiners: fewer than max_requests
//     requests, not yet closed by its leader) moves its ResourceMetrics into it and waits for the
//     group's result.
//   - Otherwise it opens a new group and is its leader. When a write is in progress, the leader
//     waits for the slot while its group keeps taking joiners; when none is, it takes the slot at
//     once.
//   - With the slot, the leader yields the processor once (runtime.Gosched), so that requests
//     already running can reach this point and join, then closes its group (later arrivals open
//     the next one), calls the next consumer once with the merged data, publishes the result to
//     every member and hands the slot to the oldest waiting group's leader, or frees it.
//
// No timer: a lone request is written at once (the yield returns at once when nothing else is
// runnable). Under load the yield lets the other requests in flight (at most the admission
// limit) run up to this point first; that is CPU they needed anyway, and with GOMAXPROCS=1 it is
// what makes groups form at all: a disk-queue write without fsync does not block, so without
// the yield nearly every request found the slot free and was written alone (11,592 writes for
// 12,000 requests in bench/collector-throughput.ts; with it 1,871).
//
// Every member returns exactly the result of the one downstream call that carried its data, and
// only after that call returned: the 200-means-on-disk promise is kept (the persistent queue
// writes the merged data as ONE item in one transaction, so a refusal - queue full - stores
// nothing of the group and every member gets the error, answers 5xx and is retried).
//
// The next consumer is called under context.Background(): a merged request belongs to no single
// client, so no member's context values (client address, metadata, span context), deadline or
// cancellation travel on. A leader whose client went away still writes its group.
package groupcommitprocessor // import "headcount.local/otelcol/groupcommitprocessor"

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor"
)

// Config of the group-commit processor.
type Config struct {
	// MaxRequests is the most requests merged into one group (one call of the next consumer).
	MaxRequests int `mapstructure:"max_requests"`
}

// Validate checks the settings.
func (c *Config) Validate() error {
	if c.MaxRequests < 1 {
		return errors.New("max_requests must be at least 1")
	}
	return nil
}

var componentType = component.MustNewType("groupcommit")

// NewFactory returns the factory of the groupcommit processor (metrics only).
func NewFactory() processor.Factory {
	return processor.NewFactory(
		componentType,
		func() component.Config { return &Config{MaxRequests: 64} },
		processor.WithMetrics(func(_ context.Context, _ processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
			return newCommitter(next, cfg.(*Config).MaxRequests), nil
		}, component.StabilityLevelBeta),
	)
}

// group is the data of one or more requests, written with one call of the next consumer.
type group struct {
	md       pmetric.Metrics
	requests int
	turn     chan struct{} // closed when the write slot is handed to this group's waiting leader
	done     chan struct{} // closed when err holds the result of the group's write
	err      error
}

type committer struct {
	next        consumer.Metrics
	maxRequests int

	mu      sync.Mutex
	writing bool     // the write slot is taken
	open    *group   // the group that takes joiners (nil: none)
	waiting []*group // groups whose leader waits for the slot, oldest first
}

func newCommitter(next consumer.Metrics, maxRequests int) *committer {
	return &committer{next: next, maxRequests: maxRequests}
}

func (*committer) Start(context.Context, component.Host) error { return nil }
func (*committer) Shutdown(context.Context) error              { return nil }

// Capabilities: a joiner's ResourceMetrics are moved out of its request.
func (*committer) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: true}
}

// ConsumeMetrics returns the result of the downstream call that carried md, after that call
// returned. The context is not used: neither waiting nor writing stops when a client goes away
// (a leader that stopped would strand its group).
func (c *committer) ConsumeMetrics(_ context.Context, md pmetric.Metrics) error {
	c.mu.Lock()
	if g := c.open; g != nil && g.requests < c.maxRequests {
		md.ResourceMetrics().MoveAndAppendTo(g.md.ResourceMetrics())
		g.requests++
		c.mu.Unlock()
		<-g.done
		return g.err
	}
	g := &group{md: md, requests: 1, turn: make(chan struct{}), done: make(chan struct{})}
	c.open = g
	if c.writing {
		c.waiting = append(c.waiting, g)
		c.mu.Unlock()
		<-g.turn // the previous writer handed the slot over
	} else {
		c.writing = true
		c.mu.Unlock()
	}
	runtime.Gosched()
	c.mu.Lock()
	if c.open == g {
		c.open = nil
	}
	c.mu.Unlock()
	return c.write(g)
}

// write calls the next consumer once with the group's data (the caller holds the write slot),
// publishes the result to the group's members and hands the slot on.
func (c *committer) write(g *group) (err error) {
	defer c.handOff()
	defer func() {
		// A panic below would otherwise leave the members waiting and the slot taken forever
		// (net/http recovers a handler's panic and the collector goes on).
		if r := recover(); r != nil {
			g.err = fmt.Errorf("groupcommit: the next consumer panicked: %v", r)
			close(g.done)
			panic(r)
		}
	}()
	g.err = c.next.ConsumeMetrics(context.Background(), g.md)
	close(g.done)
	return g.err
}

// handOff gives the write slot to the oldest waiting group's leader, or frees it.
func (c *committer) handOff() {
	c.mu.Lock()
	if len(c.waiting) == 0 {
		c.writing = false
		c.mu.Unlock()
		return
	}
	g := c.waiting[0]
	c.waiting[0] = nil
	c.waiting = c.waiting[1:]
	c.mu.Unlock()
	close(g.turn)
}
