package groupcommitprocessor

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor"
)

// request returns one request with one resource and one gauge data point named id.
func request(id int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("id", strconv.Itoa(id))
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("headcount.heartbeat")
	m.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1)
	return md
}

// ids returns the id of every resource of md, in order.
func ids(md pmetric.Metrics) []string {
	var out []string
	for i := range md.ResourceMetrics().Len() {
		v, _ := md.ResourceMetrics().At(i).Resource().Attributes().Get("id")
		out = append(out, v.Str())
	}
	return out
}

// gate is a next consumer that records each call and blocks it until released; calls whose
// data holds a resource listed in failFor return errBoom.
type gate struct {
	mu      sync.Mutex
	calls   [][]string
	ctxs    []context.Context
	entered chan struct{}   // one send per call, when it starts
	release chan struct{}   // one receive per call, before it returns (nil: do not block)
	failFor map[string]bool // resource ids whose call fails
	active  atomic.Int32
	overlap atomic.Bool
	doneIDs sync.Map // id -> true once the call carrying it returned
}

var errBoom = errors.New("queue is full")

func (*gate) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (g *gate) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	if g.active.Add(1) > 1 {
		g.overlap.Store(true)
	}
	defer g.active.Add(-1)
	got := ids(md)
	g.mu.Lock()
	g.calls = append(g.calls, got)
	g.ctxs = append(g.ctxs, ctx)
	g.mu.Unlock()
	if g.entered != nil {
		g.entered <- struct{}{}
	}
	if g.release != nil {
		<-g.release
	}
	var err error
	for _, id := range got {
		if g.failFor[id] {
			err = errBoom
		}
	}
	for _, id := range got {
		g.doneIDs.Store(id, true)
	}
	return err
}

func (g *gate) callCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}

// waitFor waits until cond holds (the goroutines under test have reached their wait).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// await waits for wg, failing the test (instead of hanging) when it does not finish.
func await(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("requests still waiting after 10 s")
	}
}

// recv and send fail the test (instead of hanging) when the other side never comes.
func recv(t *testing.T, ch chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no downstream call started within 10 s")
	}
}

func send(t *testing.T, ch chan struct{}) {
	t.Helper()
	select {
	case ch <- struct{}{}:
	case <-time.After(10 * time.Second):
		t.Fatal("no downstream call waiting to be released within 10 s")
	}
}

func (c *committer) waitingRequests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, g := range c.waiting {
		n += g.requests
	}
	return n
}

func TestFactory(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	if cfg.MaxRequests != 64 {
		t.Fatalf("default max_requests %d", cfg.MaxRequests)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (&Config{}).Validate(); err == nil {
		t.Fatal("max_requests 0 accepted")
	}
	p, err := f.CreateMetrics(context.Background(), processor.Settings{ID: component.NewID(componentType)}, cfg, &gate{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Capabilities().MutatesData {
		t.Fatal("must declare MutatesData: joiners' data is moved")
	}
	var _ processor.Metrics = p
	if err := p.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := p.ConsumeMetrics(context.Background(), request(1)); err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A lone request goes straight through: one call with its own data, under an empty context,
// and the downstream result (nil or error) comes back.
func TestLoneRequestGoesStraightThrough(t *testing.T) {
	next := &gate{failFor: map[string]bool{"2": true}}
	c := newCommitter(next, 64)
	ctx := client.NewContext(context.Background(), client.Info{Addr: &net.TCPAddr{IP: net.IPv4(203, 0, 113, 7), Port: 1}})
	md := request(1)
	start := time.Now()
	if err := c.ConsumeMetrics(ctx, md); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("a lone request took %v", d)
	}
	if !errors.Is(c.ConsumeMetrics(ctx, request(2)), errBoom) {
		t.Fatal("the downstream error was not returned")
	}
	if len(next.calls) != 2 || len(next.calls[0]) != 1 || next.calls[0][0] != "1" {
		t.Fatalf("calls %v", next.calls)
	}
	if info := client.FromContext(next.ctxs[0]); info.Addr != nil {
		t.Fatalf("client address passed on: %v", info.Addr)
	}
	if c.writing || len(c.waiting) != 0 {
		t.Fatal("slot not freed")
	}
}

// Requests arriving while a write is in progress are merged into one call; every data point
// is delivered exactly once; writes never overlap; nobody returns before its write returned.
func TestConcurrentRequestsAreMerged(t *testing.T) {
	next := &gate{entered: make(chan struct{}, 1000), release: make(chan struct{})}
	c := newCommitter(next, 64)
	const n = 40
	var wg sync.WaitGroup
	results := make([]error, n)
	submit := func(i int) {
		wg.Go(func() {
			results[i] = c.ConsumeMetrics(context.Background(), request(i))
			if _, ok := next.doneIDs.Load(strconv.Itoa(i)); !ok {
				t.Errorf("request %d returned before the write of its data returned", i)
			}
		})
	}
	submit(0)
	recv(t, next.entered) // request 0 writes alone and is held
	for i := 1; i < n; i++ {
		submit(i)
	}
	waitFor(t, "39 requests waiting", func() bool { return c.waitingRequests() == n-1 })
	if next.callCount() != 1 {
		t.Fatalf("%d calls while the first was held", next.callCount())
	}
	send(t, next.release) // request 0's write returns; the group of 39 is written next
	recv(t, next.entered)
	send(t, next.release)
	await(t, &wg)

	if len(next.calls) != 2 || len(next.calls[1]) != n-1 {
		t.Fatalf("calls %v, want 2 (1 + %d)", next.calls, n-1)
	}
	seen := map[string]int{}
	for _, call := range next.calls {
		for _, id := range call {
			seen[id]++
		}
	}
	for i := range n {
		if seen[strconv.Itoa(i)] != 1 {
			t.Fatalf("request %d delivered %d times", i, seen[strconv.Itoa(i)])
		}
		if results[i] != nil {
			t.Fatalf("request %d: %v", i, results[i])
		}
	}
	if next.overlap.Load() {
		t.Fatal("two writes overlapped")
	}
}

// Free-running load (no held writes): exactly-once delivery, fewer calls than requests, no
// overlapping writes, and max_requests bounds a group.
func TestFreeRunningLoad(t *testing.T) {
	next := &gate{}
	slow := consumerFunc(func(ctx context.Context, md pmetric.Metrics) error {
		time.Sleep(200 * time.Microsecond) // a disk write
		return next.ConsumeMetrics(ctx, md)
	})
	c := newCommitter(slow, 8)
	const workers, each = 16, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for k := range each {
				id := w*each + k
				if err := c.ConsumeMetrics(context.Background(), request(id)); err != nil {
					t.Error(err)
				}
				if _, ok := next.doneIDs.Load(strconv.Itoa(id)); !ok {
					t.Errorf("request %d returned before its write", id)
				}
			}
		})
	}
	await(t, &wg)
	seen := map[string]int{}
	for _, call := range next.calls {
		if len(call) > 8 {
			t.Fatalf("a group of %d requests (max 8)", len(call))
		}
		for _, id := range call {
			seen[id]++
		}
	}
	if len(seen) != workers*each {
		t.Fatalf("%d distinct requests delivered, want %d", len(seen), workers*each)
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("request %s delivered %d times", id, k)
		}
	}
	if len(next.calls) >= workers*each {
		t.Fatalf("%d calls for %d requests: nothing merged", len(next.calls), workers*each)
	}
	if next.overlap.Load() {
		t.Fatal("two writes overlapped")
	}
	t.Logf("%d requests in %d calls", workers*each, len(next.calls))
}

// On one processor (the benchmark's GOMAXPROCS=1) a write that does not block gives the other
// requests no chance to reach the processor while it runs: the leader's yield is what lets
// requests already running join its group.
func TestRunnableRequestsJoinOnOneProcessor(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	next := &gate{}
	c := newCommitter(next, 64)
	const n = 16
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			if err := c.ConsumeMetrics(context.Background(), request(i)); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	await(t, &wg)
	if len(next.calls) > n/4 {
		t.Fatalf("%d requests in %d calls %v: runnable requests did not join", n, len(next.calls), next.calls)
	}
	t.Logf("%d requests in %d calls", n, len(next.calls))
}

type consumerFunc func(context.Context, pmetric.Metrics) error

func (consumerFunc) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (f consumerFunc) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	return f(ctx, md)
}

// A refused write (queue full) reaches every member of its group and only that group.
func TestErrorReachesEveryMemberOfItsGroupOnly(t *testing.T) {
	next := &gate{entered: make(chan struct{}, 100), release: make(chan struct{}), failFor: map[string]bool{"3": true}}
	c := newCommitter(next, 4)
	var wg sync.WaitGroup
	results := make([]error, 11)
	submit := func(i int) {
		wg.Go(func() { results[i] = c.ConsumeMetrics(context.Background(), request(i)) })
	}
	submit(0)
	recv(t, next.entered) // 0 writes alone, held
	// 1..10 queue up in order: groups {1,2,3,4} (fails: holds 3), {5,6,7,8}, {9,10}.
	for i := 1; i <= 10; i++ {
		submit(i)
		waitFor(t, "request waiting", func() bool { return c.waitingRequests() == i })
	}
	for i := range 4 {
		send(t, next.release) // the write in progress returns; the next group's starts
		if i < 3 {
			recv(t, next.entered)
		}
	}
	await(t, &wg)
	want := [][]string{{"0"}, {"1", "2", "3", "4"}, {"5", "6", "7", "8"}, {"9", "10"}}
	if len(next.calls) != len(want) {
		t.Fatalf("calls %v, want %v", next.calls, want)
	}
	for i, call := range want {
		if len(next.calls[i]) != len(call) {
			t.Fatalf("calls %v, want %v", next.calls, want)
		}
		for j := range call {
			if next.calls[i][j] != call[j] {
				t.Fatalf("calls %v, want %v", next.calls, want)
			}
		}
	}
	for i, err := range results {
		failed := i >= 1 && i <= 4
		if failed != errors.Is(err, errBoom) {
			t.Fatalf("request %d: %v (want the error: %v)", i, err, failed)
		}
	}
}

// A leader whose client went away (cancelled context) still writes its group, under a context
// that is not cancelled, and its members get the result.
func TestCancelledLeaderStillWrites(t *testing.T) {
	next := &gate{entered: make(chan struct{}, 10), release: make(chan struct{})}
	c := newCommitter(next, 64)
	var wg sync.WaitGroup
	wg.Go(func() { _ = c.ConsumeMetrics(context.Background(), request(0)) })
	recv(t, next.entered)
	ctx, cancel := context.WithCancel(context.Background())
	results := make([]error, 3)
	wg.Go(func() { results[1] = c.ConsumeMetrics(ctx, request(1)) }) // leader of the next group
	waitFor(t, "leader waiting", func() bool { return c.waitingRequests() == 1 })
	wg.Go(func() { results[2] = c.ConsumeMetrics(context.Background(), request(2)) }) // joiner
	waitFor(t, "joiner waiting", func() bool { return c.waitingRequests() == 2 })
	cancel()
	send(t, next.release)
	recv(t, next.entered)
	if err := next.ctxs[1].Err(); err != nil {
		t.Fatalf("downstream context: %v", err)
	}
	send(t, next.release)
	await(t, &wg)
	if len(next.calls) != 2 || len(next.calls[1]) != 2 {
		t.Fatalf("calls %v", next.calls)
	}
	if results[1] != nil || results[2] != nil {
		t.Fatalf("results %v", results)
	}
	// Cancelled while writing alone: the write is not cancelled either.
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	next.release = nil
	next.entered = nil
	if err := c.ConsumeMetrics(ctx2, request(3)); err != nil {
		t.Fatal(err)
	}
	if err := next.ctxs[2].Err(); err != nil {
		t.Fatalf("downstream context: %v", err)
	}
}

// A panic downstream does not strand the group's members or keep the slot.
func TestPanicReleasesGroup(t *testing.T) {
	var calls atomic.Int32
	entered := make(chan struct{}, 10)
	release := make(chan struct{})
	next := consumerFunc(func(_ context.Context, md pmetric.Metrics) error {
		calls.Add(1)
		entered <- struct{}{}
		<-release
		if len(ids(md)) > 1 {
			panic("boom")
		}
		return nil
	})
	c := newCommitter(next, 64)
	var wg sync.WaitGroup
	wg.Go(func() { _ = c.ConsumeMetrics(context.Background(), request(0)) })
	recv(t, entered)
	var panicked atomic.Bool
	results := make([]error, 3)
	for i := 1; i <= 2; i++ {
		wg.Go(func() {
			defer func() {
				if recover() != nil {
					panicked.Store(true)
				}
			}()
			results[i] = c.ConsumeMetrics(context.Background(), request(i))
		})
		waitFor(t, "request waiting", func() bool { return c.waitingRequests() == i })
	}
	send(t, release)
	recv(t, entered)
	send(t, release)
	await(t, &wg)
	if !panicked.Load() {
		t.Fatal("the panic was not passed on to the leader")
	}
	if results[2] == nil {
		t.Fatal("the joiner got no error")
	}
	go func() { <-entered; release <- struct{}{} }()
	if err := c.ConsumeMetrics(context.Background(), request(9)); err != nil {
		t.Fatal(err)
	}
}
