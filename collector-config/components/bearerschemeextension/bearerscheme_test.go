package bearerschemeextension

import (
	"context"
	"errors"
	"testing"
)

type exact struct{ want string }

func (e exact) Authenticate(ctx context.Context, headers map[string][]string) (context.Context, error) {
	if v := headers["Authorization"]; len(v) > 0 && v[0] == e.want {
		return ctx, nil
	}
	return ctx, errors.New("denied")
}

func TestSchemeAnyCase(t *testing.T) {
	s := &scheme{next: exact{want: "Bearer tok"}}
	for value, ok := range map[string]bool{
		"Bearer tok": true, "bearer tok": true, "BEARER tok": true, "bEaReR   tok": true,
		"Bearer tok2": false, "Basic tok": false, "bearertok": false, "tok": false, "bearer Tok": false, "": false,
	} {
		headers := map[string][]string{"Authorization": {value}}
		_, err := s.Authenticate(context.Background(), headers)
		if (err == nil) != ok {
			t.Errorf("%q: err=%v, want ok=%v", value, err, ok)
		}
		if headers["Authorization"][0] != value {
			t.Errorf("%q: the caller's headers were changed", value)
		}
	}
	if _, err := s.Authenticate(context.Background(), map[string][]string{}); err == nil {
		t.Error("no header accepted")
	}
}
