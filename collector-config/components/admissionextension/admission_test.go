package admissionextension

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func handler(t *testing.T, limit int, next http.Handler) http.Handler {
	t.Helper()
	a := &admission{slots: make(chan struct{}, limit), retryAfter: "2"}
	wrap, err := a.GetHTTPHandler(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h, err := wrap(context.Background(), next)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRefusesBeyondLimit(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	h := handler(t, 1, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		entered <- struct{}{}
		<-release
		w.WriteHeader(http.StatusOK)
	}))
	done := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/metrics", strings.NewReader("x")))
		done <- rec.Code
	}()
	<-entered
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/metrics", strings.NewReader("x")))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("second request: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	close(release)
	if code := <-done; code != http.StatusOK {
		t.Fatalf("first request: %d", code)
	}
	go func() { <-entered }()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/metrics", strings.NewReader("x")))
	if rec.Code != http.StatusOK {
		t.Fatalf("after release: %d", rec.Code)
	}
}

func TestJSONMustBeUTF8(t *testing.T) {
	var got string
	h := handler(t, 4, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = string(b)
		w.WriteHeader(http.StatusOK)
	}))
	for _, tc := range []struct {
		contentType, body string
		want              int
	}{
		{"application/json", `{"resourceMetrics":[]}`, http.StatusOK},
		{"application/json; charset=utf-8", `{"a":"é"}`, http.StatusOK},
		{"application/json", "\x0a\x92\x01\xff\xfe", http.StatusBadRequest},
		{"application/x-protobuf", "\x0a\x92\x01\xff\xfe", http.StatusOK},
	} {
		got = ""
		req := httptest.NewRequest(http.MethodPost, "/v1/metrics", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s %q: %d, want %d", tc.contentType, tc.body, rec.Code, tc.want)
		}
		if tc.want == http.StatusOK && got != tc.body {
			t.Errorf("%s: the handler read %q, want the whole body", tc.contentType, got)
		}
	}
}
