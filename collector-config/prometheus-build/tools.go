//go:build tools

// Package tools pins Prometheus (v0.309.1 = Prometheus 3.9.1) as a module dependency, so that
// scripts/fetch-prometheus.sh can build cmd/prometheus and cmd/promtool (recording-rule backfill)
// with this go.mod's exclude lines.
// (`go install github.com/prometheus/prometheus/cmd/prometheus@v0.309.1` refuses to build
// because Prometheus' own go.mod carries exclude directives.)
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
