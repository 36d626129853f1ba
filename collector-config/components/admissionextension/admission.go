// Package admissionextension is an HTTP server middleware that bounds the number of requests a
// receiver works on at once. A request over the limit is answered 503 with Retry-After before
// its body is read, so memory under load is bounded by max_in_flight x (body size + the data
// decoded from it), whatever the number of clients. OTLP clients retry 503.
//
// It also refuses (400) a JSON body that is not valid UTF-8 (RFC 8259 requires UTF-8): the
// OTLP receiver v0.161.0 would answer such a body - typically protobuf sent with a wrong
// Content-Type - with 500, because its error message quotes the invalid bytes and the JSON
// encoding of the error status then fails (otlphttp.go writeStatusResponse). Clients retry 5xx.
//
// In confighttp the middlewares run after authentication, the body size limit and
// decompression, and before the receiver reads the body: unauthenticated requests are refused
// (401) without taking a slot.
package admissionextension // import "headcount.local/otelcol/admissionextension"

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
)

// Config of the admission middleware.
type Config struct {
	// MaxInFlight is the number of requests handled at the same time; more are refused with 503.
	MaxInFlight int `mapstructure:"max_in_flight"`
	// RetryAfter is sent in the Retry-After header of a refusal (whole seconds, at least 1).
	RetryAfter time.Duration `mapstructure:"retry_after"`
}

// Validate checks the settings.
func (c *Config) Validate() error {
	if c.MaxInFlight < 1 {
		return errors.New("max_in_flight must be at least 1")
	}
	if c.RetryAfter < time.Second {
		return errors.New("retry_after must be at least 1s")
	}
	return nil
}

var componentType = component.MustNewType("admission")

// NewFactory returns the factory of the admission extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(
		componentType,
		func() component.Config { return &Config{MaxInFlight: 32, RetryAfter: time.Second} },
		func(_ context.Context, _ extension.Settings, cfg component.Config) (extension.Extension, error) {
			c := cfg.(*Config)
			return &admission{slots: make(chan struct{}, c.MaxInFlight), retryAfter: strconv.Itoa(int(c.RetryAfter / time.Second))}, nil
		},
		component.StabilityLevelBeta,
	)
}

type admission struct {
	slots      chan struct{}
	retryAfter string
}

var _ extensionmiddleware.HTTPServer = (*admission)(nil)

func (*admission) Start(context.Context, component.Host) error { return nil }
func (*admission) Shutdown(context.Context) error              { return nil }

func (a *admission) GetHTTPHandler(context.Context) (extensionmiddleware.WrapHTTPHandlerFunc, error) {
	return func(_ context.Context, next http.Handler) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case a.slots <- struct{}{}:
				defer func() { <-a.slots }()
				if isJSON(r) {
					body, err := io.ReadAll(r.Body)
					if err != nil {
						http.Error(w, "cannot read the request body", http.StatusBadRequest)
						return
					}
					if !utf8.Valid(body) {
						http.Error(w, "the body is not valid UTF-8, so not JSON (protobuf needs Content-Type: application/x-protobuf)", http.StatusBadRequest)
						return
					}
					r.Body = io.NopCloser(bytes.NewReader(body))
				}
				next.ServeHTTP(w, r)
			default:
				w.Header().Set("Retry-After", a.retryAfter)
				http.Error(w, "server busy, retry later", http.StatusServiceUnavailable)
			}
		}), nil
	}, nil
}

func isJSON(r *http.Request) bool {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mediaType == "application/json"
}
