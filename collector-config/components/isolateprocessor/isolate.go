// Package isolateprocessor passes data on with a new, empty context.
//
// The OTLP receiver puts the client's address (and, with include_metadata, its headers) into the
// request context, and otelhttp may add a span context taken from the client's traceparent
// header. The exporter's persistent sending queue writes that context to disk next to the data
// (pdata/xpdata/request MarshalMetrics: span context, client metadata, client address). Placed
// last before an exporter or connector, this processor guarantees that nothing from the request
// context travels further: the data goes on under context.Background(), synchronously, so the
// receiver still answers only after the next consumer (the queue on disk) has accepted it.
package isolateprocessor // import "headcount.local/otelcol/isolateprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor"
)

// Config has no settings.
type Config struct{}

var componentType = component.MustNewType("isolate")

// NewFactory returns the factory of the isolate processor (metrics and logs).
func NewFactory() processor.Factory {
	return processor.NewFactory(
		componentType,
		func() component.Config { return &Config{} },
		processor.WithMetrics(func(_ context.Context, _ processor.Settings, _ component.Config, next consumer.Metrics) (processor.Metrics, error) {
			return &metricsIsolator{next: next}, nil
		}, component.StabilityLevelBeta),
		processor.WithLogs(func(_ context.Context, _ processor.Settings, _ component.Config, next consumer.Logs) (processor.Logs, error) {
			return &logsIsolator{next: next}, nil
		}, component.StabilityLevelBeta),
	)
}

type lifecycle struct{}

func (lifecycle) Start(context.Context, component.Host) error { return nil }
func (lifecycle) Shutdown(context.Context) error              { return nil }
func (lifecycle) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

type metricsIsolator struct {
	lifecycle
	next consumer.Metrics
}

func (p *metricsIsolator) ConsumeMetrics(_ context.Context, md pmetric.Metrics) error {
	return p.next.ConsumeMetrics(context.Background(), md)
}

type logsIsolator struct {
	lifecycle
	next consumer.Logs
}

func (p *logsIsolator) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	return p.next.ConsumeLogs(context.Background(), ld)
}
