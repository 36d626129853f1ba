package isolateprocessor

import (
	"context"
	"net"
	"testing"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

type sink struct{ ctx context.Context }

func (*sink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (s *sink) ConsumeMetrics(ctx context.Context, _ pmetric.Metrics) error {
	s.ctx = ctx
	return nil
}

func TestDropsClientInfo(t *testing.T) {
	next := &sink{}
	p := &metricsIsolator{next: next}
	ctx := client.NewContext(context.Background(), client.Info{Addr: &net.TCPAddr{IP: net.IPv4(203, 0, 113, 7), Port: 1}})
	if err := p.ConsumeMetrics(ctx, pmetric.NewMetrics()); err != nil {
		t.Fatal(err)
	}
	if info := client.FromContext(next.ctx); info.Addr != nil {
		t.Fatalf("client address passed on: %v", info.Addr)
	}
}
