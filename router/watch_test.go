package router

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// scriptedSource answers ActiveVersion from a script, one step a poll,
// repeating the last step; done closes when the script has been read.
type scriptedSource struct {
	mu    sync.Mutex
	steps []sourceStep
	polls int
	done  chan struct{}
}

type sourceStep struct {
	id  int64
	err error
}

func (s *scriptedSource) ActiveVersion(context.Context) (Version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.steps[min(s.polls, len(s.steps)-1)]
	s.polls++
	if s.polls == len(s.steps) {
		close(s.done)
	}
	return Version{ID: st.id}, st.err
}

// outageCount counts what WatchActive reports.
type outageCount struct {
	mu       sync.Mutex
	fail, ok int
}

func (o *outageCount) Fail(string, error) { o.mu.Lock(); o.fail++; o.mu.Unlock() }
func (o *outageCount) OK()                { o.mu.Lock(); o.ok++; o.mu.Unlock() }

func TestWatchActive(t *testing.T) {
	down := errors.New("database down")
	tests := []struct {
		name          string
		steps         []sourceStep
		refuse        int64 // a version Activate refuses
		wantActivated []int64
		wantFail      int
	}{
		{"same version: nothing to do", []sourceStep{{id: 1}, {id: 1}}, 0, nil, 0},
		{"a promotion is activated once", []sourceStep{{id: 1}, {id: 2}, {id: 2}}, 0, []int64{2}, 0},
		{"an outage keeps the table and is reported", []sourceStep{{err: down}, {err: down}, {id: 3}}, 0, []int64{3}, 2},
		{"a version that cannot be served is tried once", []sourceStep{{id: 4}, {id: 4}, {id: 4}, {id: 5}}, 4, []int64{4, 5}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &scriptedSource{steps: tt.steps, done: make(chan struct{})}
			var (
				mu        sync.Mutex
				current   = Version{ID: 1}
				activated []int64
			)
			out := &outageCount{}
			ctx, cancel := context.WithCancel(context.Background())
			stopped := make(chan struct{})
			go func() {
				defer close(stopped)
				WatchActive(ctx, WatchOptions{
					Source: src,
					Current: func() Version {
						mu.Lock()
						defer mu.Unlock()
						return current
					},
					Activate: func(_ context.Context, v Version) error {
						mu.Lock()
						defer mu.Unlock()
						activated = append(activated, v.ID)
						if v.ID == tt.refuse {
							return errors.New("names a model the configuration lacks")
						}
						current = v
						return nil
					},
					Outage:   out,
					Interval: time.Millisecond,
					Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
				})
			}()
			select {
			case <-src.done:
			case <-time.After(10 * time.Second):
				t.Fatal("the watcher did not poll through its script")
			}
			cancel()
			select {
			case <-stopped:
			case <-time.After(10 * time.Second):
				t.Fatal("the watcher did not stop when its context ended")
			}
			mu.Lock()
			defer mu.Unlock()
			if len(activated) != len(tt.wantActivated) {
				t.Fatalf("activated %v, want %v", activated, tt.wantActivated)
			}
			for i := range activated {
				if activated[i] != tt.wantActivated[i] {
					t.Errorf("activated %v, want %v", activated, tt.wantActivated)
				}
			}
			out.mu.Lock()
			defer out.mu.Unlock()
			if out.fail != tt.wantFail {
				t.Errorf("outage failures = %d, want %d", out.fail, tt.wantFail)
			}
			if wantOK := len(tt.steps) - tt.wantFail; out.ok < wantOK {
				t.Errorf("outage OKs = %d, want at least %d", out.ok, wantOK)
			}
		})
	}
}
