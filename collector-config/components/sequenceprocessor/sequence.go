// Package sequenceprocessor serialises a metrics pipeline and stamps every data point with a
// strictly increasing millisecond timestamp.
//
// Why: feature counts are stored as one sample per request (time T, start T - 1 ms) and summed
// by the queries. Without a batch processor in front, requests arrive concurrently; two of them
// could stamp the same millisecond of one counter stream, and Prometheus refuses a whole export
// (HTTP 400, never retried) when a series gets two different values at the same millisecond, or
// they could reach the persistent queue out of timestamp order. This processor holds one lock
// from stamping until the rest of the pipeline (the persistent queue) has returned, so timestamp
// order and queue order are the same, and no two requests share a millisecond.
//
// Every data point of a request gets time = T and start time = T - 1 ms. T is the request's
// newest data point time in whole milliseconds (set just before by a transform processor, so
// "now", or "now minus a shift" in the demo overlay), raised to the previous T + 1 ms when it is
// not after it. When T is then ahead of the real clock by a few milliseconds, the lock is held
// until the clock reaches it: under a burst at most ~1,000 requests/s pass and T never drifts
// ahead of real time.
package sequenceprocessor // import "headcount.local/otelcol/sequenceprocessor"

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor"
)

// Config has no settings.
type Config struct{}

var componentType = component.MustNewType("sequence")

// NewFactory returns the factory of the sequence processor (metrics only).
func NewFactory() processor.Factory {
	return processor.NewFactory(
		componentType,
		func() component.Config { return &Config{} },
		processor.WithMetrics(func(_ context.Context, _ processor.Settings, _ component.Config, next consumer.Metrics) (processor.Metrics, error) {
			return &sequencer{next: next, now: time.Now, sleep: time.Sleep}, nil
		}, component.StabilityLevelBeta),
	)
}

type sequencer struct {
	next  consumer.Metrics
	now   func() time.Time
	sleep func(time.Duration)

	mu   sync.Mutex
	last int64 // unix milliseconds of the previous stamp
}

func (*sequencer) Start(context.Context, component.Host) error { return nil }
func (*sequencer) Shutdown(context.Context) error              { return nil }
func (*sequencer) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: true}
}

// maxWait bounds how long a request waits for the clock; beyond it (the wall clock was set
// back) stamps continue from the previous one instead.
const maxWait = 5 * time.Millisecond

func (p *sequencer) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	ms, ok := newest(md)
	if !ok {
		return p.next.ConsumeMetrics(ctx, md)
	}
	if ms <= p.last {
		ms = p.last + 1
	}
	if wait := time.Duration(ms-p.now().UnixMilli()) * time.Millisecond; wait > 0 && wait <= maxWait {
		p.sleep(wait)
	}
	p.last = ms
	stamp(md, pcommon.Timestamp(ms*int64(time.Millisecond)))
	return p.next.ConsumeMetrics(ctx, md)
}

// newest returns the newest data point time of md in unix milliseconds (false: no data point).
func newest(md pmetric.Metrics) (int64, bool) {
	var max pcommon.Timestamp
	found := false
	see := func(ts pcommon.Timestamp) {
		found = true
		if ts > max {
			max = ts
		}
	}
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				switch m.Type() {
				case pmetric.MetricTypeSum:
					for d := range m.Sum().DataPoints().Len() {
						see(m.Sum().DataPoints().At(d).Timestamp())
					}
				case pmetric.MetricTypeGauge:
					for d := range m.Gauge().DataPoints().Len() {
						see(m.Gauge().DataPoints().At(d).Timestamp())
					}
				case pmetric.MetricTypeHistogram:
					for d := range m.Histogram().DataPoints().Len() {
						see(m.Histogram().DataPoints().At(d).Timestamp())
					}
				case pmetric.MetricTypeExponentialHistogram:
					for d := range m.ExponentialHistogram().DataPoints().Len() {
						see(m.ExponentialHistogram().DataPoints().At(d).Timestamp())
					}
				case pmetric.MetricTypeSummary:
					for d := range m.Summary().DataPoints().Len() {
						see(m.Summary().DataPoints().At(d).Timestamp())
					}
				case pmetric.MetricTypeEmpty:
				}
			}
		}
	}
	return int64(max) / int64(time.Millisecond), found
}

func stamp(md pmetric.Metrics, ts pcommon.Timestamp) {
	start := ts - pcommon.Timestamp(time.Millisecond)
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				switch m.Type() {
				case pmetric.MetricTypeSum:
					numbers(m.Sum().DataPoints(), ts, start)
				case pmetric.MetricTypeGauge:
					numbers(m.Gauge().DataPoints(), ts, start)
				case pmetric.MetricTypeHistogram:
					dps := m.Histogram().DataPoints()
					for d := range dps.Len() {
						dps.At(d).SetTimestamp(ts)
						dps.At(d).SetStartTimestamp(start)
					}
				case pmetric.MetricTypeExponentialHistogram:
					dps := m.ExponentialHistogram().DataPoints()
					for d := range dps.Len() {
						dps.At(d).SetTimestamp(ts)
						dps.At(d).SetStartTimestamp(start)
					}
				case pmetric.MetricTypeSummary:
					dps := m.Summary().DataPoints()
					for d := range dps.Len() {
						dps.At(d).SetTimestamp(ts)
						dps.At(d).SetStartTimestamp(start)
					}
				case pmetric.MetricTypeEmpty:
				}
			}
		}
	}
}

func numbers(dps pmetric.NumberDataPointSlice, ts, start pcommon.Timestamp) {
	for d := range dps.Len() {
		dps.At(d).SetTimestamp(ts)
		dps.At(d).SetStartTimestamp(start)
	}
}
