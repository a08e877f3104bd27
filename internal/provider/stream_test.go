package provider

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/internal/faketest"
	"github.com/switchyard/switchyard/router"
)

// drain reads s to its end.
func drain(s router.ChunkStream) (string, error) {
	var b strings.Builder
	for {
		c, err := s.Recv()
		if err != nil {
			return b.String(), err
		}
		b.WriteString(c.Content)
	}
}

func TestStream(t *testing.T) {
	up := faketest.New()
	defer up.Close()
	c := New(config.Provider{Name: "fake", BaseURL: up.URL + "/v1", APIKey: secret}, Options{})

	tests := []struct {
		model       string
		wantText    string
		wantErr     string // substring of the CallError message; "" for a clean io.EOF
		wantFinish  string
		wantUsage   bool
		wantOpenErr bool
	}{
		{model: "ok-a", wantText: "answer from ok-a", wantFinish: "stop", wantUsage: true},
		// A cut stream ends "cleanly" as far as the SDK can tell: the
		// caller sees no finish reason.
		{model: "cut-after", wantText: "answer "},
		{model: "cut-before"},
		{model: "error-event", wantText: "answer ", wantErr: "error mid-stream"},
		{model: "malformed", wantErr: "malformed"},
		{model: "status-503", wantErr: "provider error (503)", wantOpenErr: true},
		{model: "status-400", wantErr: "refused the request (400)", wantOpenErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s, err := c.Stream(ctx, router.Call{Model: tt.model, Messages: []router.Message{{Role: "user", Content: "hi"}}})
			if tt.wantOpenErr {
				var ce *router.CallError
				if !errors.As(err, &ce) || !strings.Contains(ce.Message, tt.wantErr) {
					t.Fatalf("Stream err = %v, want a CallError saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			defer s.Close()
			text, err := drain(s)
			if text != tt.wantText {
				t.Errorf("text = %q, want %q", text, tt.wantText)
			}
			var ce *router.CallError
			switch {
			case tt.wantErr == "" && err != io.EOF:
				t.Errorf("end = %v, want io.EOF", err)
			case tt.wantErr != "" && (!errors.As(err, &ce) || !strings.Contains(ce.Message, tt.wantErr)):
				t.Errorf("end = %v, want a CallError saying %q", err, tt.wantErr)
			}
			if ce != nil && strings.Contains(ce.Message, "overloaded") {
				t.Errorf("provider's in-band text reached the client-safe message: %q", ce.Message)
			}
			f := s.Final()
			if f.FinishReason != tt.wantFinish {
				t.Errorf("finish = %q, want %q", f.FinishReason, tt.wantFinish)
			}
			if got := f.PromptTokens == faketest.PromptTokens && f.CompletionTokens == faketest.CompletionTokens; got != tt.wantUsage {
				t.Errorf("usage = %d/%d, want reported: %v", f.PromptTokens, f.CompletionTokens, tt.wantUsage)
			}
		})
	}
	for _, a := range up.WaitEnded(len(tests), 2*time.Second) {
		if !a.Stream || !a.IncludeUsage {
			t.Errorf("%s: stream %v include_usage %v, want usage always requested upstream", a.Model, a.Stream, a.IncludeUsage)
		}
		if a.Authorization != "Bearer "+secret {
			t.Errorf("%s: Authorization = %q, want the configured key", a.Model, a.Authorization)
		}
	}
}

func TestStreamCancelReachesUpstream(t *testing.T) {
	up := faketest.New()
	defer up.Close()
	c := New(config.Provider{Name: "fake", BaseURL: up.URL + "/v1", MaxConcurrency: 1}, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := c.Stream(ctx, router.Call{Model: "stall", Messages: []router.Message{{Role: "user", Content: "hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	if ch, err := s.Recv(); err != nil || ch.Role != "assistant" {
		t.Fatalf("first chunk = %+v, %v", ch, err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = s.Recv()
	var ce *router.CallError
	if !errors.As(err, &ce) || ce.Outcome != router.OutcomeCancelled {
		t.Errorf("after cancel: %v, want a cancelled CallError", err)
	}
	s.Close()
	s.Close() // twice is fine
	if got := up.WaitEnded(1, 2*time.Second); got[0].End.IsZero() || !got[0].Cancelled {
		t.Errorf("upstream attempt = %+v, want it ended by the cancellation", got[0])
	}
	// The concurrency slot came back with Close.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	if _, err := c.Complete(ctx2, router.Call{Model: "ok", Messages: []router.Message{{Role: "user", Content: "hi"}}}); err != nil {
		t.Errorf("after Close, Complete = %v, want the slot released", err)
	}
}
