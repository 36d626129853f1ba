// Package bearerschemeextension is a server authenticator that accepts the HTTP authentication
// scheme in any letter case ("bearer", "BEARER"; RFC 7235 section 2.1: the scheme is
// case-insensitive) and with several spaces before the credentials, then hands the request to
// another authenticator (bearertokenauth) with the scheme written as "Bearer ". The token
// itself is compared by that authenticator, unchanged (constant time there).
package bearerschemeextension // import "headcount.local/otelcol/bearerschemeextension"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensionauth"
)

// Config of the bearerscheme authenticator.
type Config struct {
	// Authenticator is the id of the server authenticator that checks the token.
	Authenticator component.ID `mapstructure:"authenticator"`
}

// Validate checks the settings.
func (c *Config) Validate() error {
	if c.Authenticator.String() == "" || c.Authenticator.Type().String() == "" {
		return errors.New("authenticator must name the authenticator extension that checks the token")
	}
	return nil
}

var componentType = component.MustNewType("bearerscheme")

// NewFactory returns the factory of the bearerscheme extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(
		componentType,
		func() component.Config { return &Config{} },
		func(_ context.Context, _ extension.Settings, cfg component.Config) (extension.Extension, error) {
			return &scheme{id: cfg.(*Config).Authenticator}, nil
		},
		component.StabilityLevelBeta,
	)
}

type scheme struct {
	id   component.ID
	next extensionauth.Server
}

var _ extensionauth.Server = (*scheme)(nil)

func (s *scheme) Start(_ context.Context, host component.Host) error {
	ext, ok := host.GetExtensions()[s.id]
	if !ok {
		return fmt.Errorf("authenticator %q is not configured", s.id)
	}
	next, ok := ext.(extensionauth.Server)
	if !ok {
		return fmt.Errorf("extension %q is not a server authenticator", s.id)
	}
	s.next = next
	return nil
}

func (*scheme) Shutdown(context.Context) error { return nil }

var authorization = http.CanonicalHeaderKey("Authorization")

// Authenticate rewrites "<any case of bearer><spaces><credentials>" to "Bearer <credentials>"
// in a copy of the headers and asks the configured authenticator.
func (s *scheme) Authenticate(ctx context.Context, headers map[string][]string) (context.Context, error) {
	values := headers[authorization]
	if len(values) == 0 {
		return s.next.Authenticate(ctx, headers)
	}
	name, credentials, found := strings.Cut(values[0], " ")
	if !found || !strings.EqualFold(name, "Bearer") {
		return s.next.Authenticate(ctx, headers)
	}
	copied := make(map[string][]string, len(headers))
	for k, v := range headers {
		copied[k] = v
	}
	copied[authorization] = []string{"Bearer " + strings.TrimLeft(credentials, " ")}
	return s.next.Authenticate(ctx, copied)
}
