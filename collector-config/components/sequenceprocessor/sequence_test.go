package sequenceprocessor

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

type recorder struct {
	mu    sync.Mutex
	times []pcommon.Timestamp
}

func (*recorder) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (r *recorder) ConsumeMetrics(_ context.Context, md pmetric.Metrics) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	dp := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0)
	if dp.StartTimestamp() != dp.Timestamp()-pcommon.Timestamp(time.Millisecond) {
		panic("start time is not 1 ms before the time")
	}
	r.times = append(r.times, dp.Timestamp())
	return nil
}

func request(ts time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	dp := m.SetEmptySum().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	return md
}

// Concurrent requests stamped with the same instant leave in strictly increasing milliseconds,
// in the order the next consumer sees them.
func TestStrictlyIncreasingMilliseconds(t *testing.T) {
	rec := &recorder{}
	p := &sequencer{next: rec, now: time.Now, sleep: time.Sleep}
	at := time.Now()
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if err := p.ConsumeMetrics(context.Background(), request(at)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(rec.times) != 200 {
		t.Fatalf("got %d requests", len(rec.times))
	}
	for i := 1; i < len(rec.times); i++ {
		if rec.times[i]%pcommon.Timestamp(time.Millisecond) != 0 || rec.times[i] <= rec.times[i-1] || (rec.times[i]-rec.times[i-1])%pcommon.Timestamp(time.Millisecond) != 0 {
			t.Fatalf("request %d: %d after %d", i, rec.times[i], rec.times[i-1])
		}
	}
	// Held back to the real clock: the last stamp is not far ahead of now.
	if ahead := rec.times[len(rec.times)-1].AsTime().Sub(time.Now()); ahead > 10*time.Millisecond {
		t.Fatalf("stamps drifted %v ahead of the clock", ahead)
	}
}

// A shifted clock (the demo overlay stamps days in the past) is kept, only made unique.
func TestKeepsShiftedTimes(t *testing.T) {
	rec := &recorder{}
	p := &sequencer{next: rec, now: time.Now, sleep: time.Sleep}
	past := time.Now().Add(-72 * time.Hour).Truncate(time.Millisecond)
	for range 3 {
		if err := p.ConsumeMetrics(context.Background(), request(past)); err != nil {
			t.Fatal(err)
		}
	}
	for i, ts := range rec.times {
		if want := past.Add(time.Duration(i) * time.Millisecond); !ts.AsTime().Equal(want) {
			t.Fatalf("request %d stamped %v, want %v", i, ts.AsTime(), want)
		}
	}
}
