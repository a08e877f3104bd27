package router

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// pacedStreamer streams per model: "silent" sends nothing until its
// context ends; "slow" sends a chunk every gap, ten of them (an honest
// long answer); anything else answers at once. It also answers whole
// calls, as the provider does.
type pacedStreamer struct {
	scripted
	gap time.Duration
}

func (p *pacedStreamer) Stream(ctx context.Context, call Call) (ChunkStream, error) {
	p.mu.Lock()
	p.calls = append(p.calls, call.Model)
	p.mu.Unlock()
	return &pacedStream{ctx: ctx, model: call.Model, gap: p.gap}, nil
}

type pacedStream struct {
	ctx   context.Context
	model string
	gap   time.Duration
	i     int
}

func (s *pacedStream) Recv() (Chunk, error) {
	switch {
	case s.model == "silent":
		<-s.ctx.Done()
		return Chunk{}, s.ctx.Err()
	case s.model == "slow" && s.i < 10:
		select {
		case <-s.ctx.Done():
			return Chunk{}, s.ctx.Err()
		case <-time.After(s.gap):
		}
		s.i++
		c := Chunk{Content: "word "}
		if s.i == 10 {
			c.FinishReason = "stop"
		}
		return c, nil
	case s.model != "slow" && s.i == 0:
		s.i++
		return Chunk{Content: "answer from " + s.model, FinishReason: "stop"}, nil
	}
	return Chunk{}, io.EOF
}

func (s *pacedStream) Final() Reply {
	return Reply{FinishReason: "stop", PromptTokens: 10, CompletionTokens: 5}
}
func (s *pacedStream) Close() error { return nil }

// The first-byte timer (issue 12, item 3; FAULTS.md F3): a silent model
// is abandoned after FirstByteTimeout, not the attempt timeout, for whole
// answers (called streamed and assembled) and streams alike, without a
// retry; a slow but steady answer whose whole takes longer than the
// timer is not cut.
func TestFirstByteTimeout(t *testing.T) {
	models := Catalog{
		"silent": {Name: "silent", Provider: "p", InputPerMTok: 1, OutputPerMTok: 1},
		"slow":   {Name: "slow", Provider: "p", InputPerMTok: 1, OutputPerMTok: 1},
		"ok":     {Name: "ok", Provider: "p", InputPerMTok: 1, OutputPerMTok: 1},
	}
	table := Table{Simple: {"silent", "ok"}, Moderate: {"slow", "ok"}, Complex: {"ok"}}
	const firstByte = 150 * time.Millisecond
	tests := []struct {
		name      string
		c         Complexity
		stream    bool
		wantModel string
		wantFirst string // the first attempt's status
		maxTook   time.Duration
	}{
		{"silent, whole answer", Simple, false, "ok", OutcomeTimeout, 2 * time.Second},
		{"silent, stream", Simple, true, "ok", OutcomeTimeout, 2 * time.Second},
		{"slow but steady, whole answer", Moderate, false, "slow", OutcomeOK, 5 * time.Second},
		{"slow but steady, stream", Moderate, true, "slow", OutcomeOK, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			comp := &pacedStreamer{gap: 60 * time.Millisecond} // 600ms in all, four times the timer
			svc, err := NewService(Options{
				Models: models, Completers: map[string]Completer{"p": comp}, Classifier: fixedClassifier(tt.c),
				Recorder: &memRecorder{}, Baseline: "ok", Version: Version{ID: 1, Table: table},
				Timeout: 30 * time.Second, FirstByteTimeout: firstByte,
			})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			var res Result
			if tt.stream {
				res, err = svc.ServeStream(context.Background(), Request{Messages: userMsg("hi")}, &recWriter{})
			} else {
				res, err = svc.Serve(context.Background(), Request{Messages: userMsg("hi")})
			}
			took := time.Since(start)
			if err != nil {
				t.Fatalf("serve: %v", err)
			}
			if res.Model != tt.wantModel || res.Attempts[0].Status != tt.wantFirst {
				t.Fatalf("model %s, attempts %+v; want %s answering, first attempt %s", res.Model, res.Attempts, tt.wantModel, tt.wantFirst)
			}
			if took > tt.maxTook {
				t.Errorf("took %v, want under %v (attempt timeout 30s)", took, tt.maxTook)
			}
			if tt.wantFirst == OutcomeTimeout {
				if !strings.Contains(res.Attempts[0].Error, "no first byte within 150ms") {
					t.Errorf("first attempt error = %q", res.Attempts[0].Error)
				}
				if n := strings.Count(strings.Join(comp.calls, ","), "silent"); n != 1 {
					t.Errorf("silent model called %d times, want once (no retry)", n)
				}
			}
			if tt.wantModel == "slow" && res.Content != strings.Repeat("word ", 10) && !tt.stream {
				t.Errorf("assembled answer = %q", res.Content)
			}
		})
	}
}
