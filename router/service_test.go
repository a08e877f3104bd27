package router

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// scripted is a Completer that answers per model from a script.
type scripted struct {
	mu    sync.Mutex
	calls []string
	reply map[string]func() (Reply, error)
}

func (s *scripted) Complete(ctx context.Context, call Call) (Reply, error) {
	s.mu.Lock()
	s.calls = append(s.calls, call.Model)
	s.mu.Unlock()
	if f, ok := s.reply[call.Model]; ok {
		return f()
	}
	return Reply{Content: "answer from " + call.Model, FinishReason: "stop", PromptTokens: 100, CompletionTokens: 50}, nil
}

type fixedClassifier Complexity

func (f fixedClassifier) Classify(ctx context.Context, prompt Prompt) (Analysis, error) {
	return Analysis{Complexity: Complexity(f), EstimatedTokens: 50, Tier: TierHeuristic}, nil
}

type memRecorder struct {
	mu   sync.Mutex
	recs []Record
}

func (m *memRecorder) Record(ctx context.Context, r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, r)
	return nil
}

var testModels = Catalog{
	"cheap":  {Name: "cheap", Provider: "p1", InputPerMTok: 0.1, OutputPerMTok: 0.4, ContextWindow: 1000},
	"mid":    {Name: "mid", Provider: "p1", InputPerMTok: 1, OutputPerMTok: 2},
	"strong": {Name: "strong", Provider: "p2", InputPerMTok: 10, OutputPerMTok: 30},
}

var testTable = Table{
	Simple:   {"cheap", "mid", "strong"},
	Moderate: {"mid", "strong"},
	Complex:  {"strong"},
}

func newTestService(t *testing.T, c Completer, cls Classifier) (*Service, *memRecorder) {
	t.Helper()
	rec := &memRecorder{}
	svc, err := NewService(Options{
		Models:     testModels,
		Completers: map[string]Completer{"p1": c, "p2": c},
		Classifier: cls,
		Recorder:   rec,
		Baseline:   "strong",
		Version:    Version{ID: 7, Table: testTable, Status: StatusActive},
		Timeout:    time.Second,
	})
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	return svc, rec
}

func userMsg(s string) []Message { return []Message{{Role: "user", Content: s}} }

func TestServeEscalation(t *testing.T) {
	fail := func() (Reply, error) {
		return Reply{}, &CallError{Outcome: OutcomeError, StatusCode: 503, Message: "provider error (503)"}
	}
	empty := func() (Reply, error) { return Reply{Content: "  ", PromptTokens: 100, CompletionTokens: 1}, nil }
	timeout := func() (Reply, error) { return Reply{}, context.DeadlineExceeded }

	tests := []struct {
		name        string
		bucket      Complexity
		script      map[string]func() (Reply, error)
		prompt      string
		wantModel   string
		wantCalls   []string
		wantStatus  []string
		wantErrKind Kind
	}{
		{name: "cheapest answers", bucket: Simple, wantModel: "cheap", wantCalls: []string{"cheap"}, wantStatus: []string{OutcomeOK}},
		{name: "5xx retried twice then escalates", bucket: Simple, script: map[string]func() (Reply, error){"cheap": fail}, wantModel: "mid",
			wantCalls: []string{"cheap", "cheap", "cheap", "mid"}, wantStatus: []string{OutcomeError, OutcomeError, OutcomeError, OutcomeOK}},
		{name: "empty answer escalates", bucket: Simple, script: map[string]func() (Reply, error){"cheap": empty, "mid": timeout}, wantModel: "strong",
			wantCalls: []string{"cheap", "mid", "strong"}, wantStatus: []string{OutcomeEmpty, OutcomeTimeout, OutcomeOK}},
		{name: "all fail", bucket: Moderate, script: map[string]func() (Reply, error){"mid": fail, "strong": fail},
			wantCalls: []string{"mid", "mid", "mid", "strong", "strong", "strong"}, wantStatus: []string{OutcomeError, OutcomeError, OutcomeError, OutcomeError, OutcomeError, OutcomeError}, wantErrKind: KindUnavailable},
		{name: "context window skips without a call", bucket: Simple, prompt: string(make([]byte, 8000)) + "x", wantModel: "mid",
			wantCalls: []string{"mid"}, wantStatus: []string{OutcomeSkipped, OutcomeOK}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &scripted{reply: tt.script}
			svc, rec := newTestService(t, c, fixedClassifier(tt.bucket))
			prompt := tt.prompt
			if prompt == "" {
				prompt = "what is 2+2?"
			}
			res, err := svc.Serve(context.Background(), Request{Endpoint: "ask", Messages: userMsg(prompt)})
			if tt.wantErrKind != "" {
				if KindOf(err) != tt.wantErrKind {
					t.Fatalf("err = %v (kind %s), want kind %s", err, KindOf(err), tt.wantErrKind)
				}
			} else if err != nil {
				t.Fatalf("Serve: %v", err)
			}
			if res.Model != tt.wantModel {
				t.Errorf("model = %q, want %q", res.Model, tt.wantModel)
			}
			if got, want := c.calls, tt.wantCalls; !equal(got, want) {
				t.Errorf("calls = %v, want %v", got, want)
			}
			var statuses []string
			for _, a := range res.Attempts {
				statuses = append(statuses, a.Status)
			}
			if !equal(statuses, tt.wantStatus) {
				t.Errorf("attempt statuses = %v, want %v", statuses, tt.wantStatus)
			}
			if len(rec.recs) != 1 {
				t.Fatalf("records = %d, want exactly 1 whatever the outcome", len(rec.recs))
			}
			r := rec.recs[0]
			if r.ID != res.ID || r.TableVersion != 7 || r.Model != tt.wantModel || len(r.Attempts) != len(tt.wantStatus) {
				t.Errorf("record = %+v, does not match result %+v", r, res)
			}
			if wantOK := tt.wantErrKind == ""; (r.Status == OutcomeOK) != wantOK {
				t.Errorf("record status = %q, want ok=%v", r.Status, wantOK)
			}
		})
	}
}

func TestServeCosts(t *testing.T) {
	svc, rec := newTestService(t, &scripted{}, fixedClassifier(Simple))
	res, err := svc.Serve(context.Background(), Request{Messages: userMsg("hello")})
	if err != nil {
		t.Fatal(err)
	}
	// cheap: 100 in x 0.1 + 50 out x 0.4 = 30 micros; strong: 100x10 + 50x30 = 2500.
	if res.Cost != 30 {
		t.Errorf("cost = %d micros, want 30", res.Cost)
	}
	if got := rec.recs[0].BaselineCost; got != 2500 {
		t.Errorf("baseline cost = %d micros, want 2500", got)
	}
	if res.EstimatedCost <= 0 {
		t.Errorf("estimated cost = %d, want > 0", res.EstimatedCost)
	}
	if rec.recs[0].PromptHash != HashPrompt("  HELLO ") {
		t.Errorf("prompt hash does not match the normalised prompt's")
	}
}

func TestServeNamedModel(t *testing.T) {
	c := &scripted{}
	svc, _ := newTestService(t, c, fixedClassifier(Simple))
	res, err := svc.Serve(context.Background(), Request{Model: "strong", Messages: userMsg("hi")})
	if err != nil || res.Model != "strong" || !equal(c.calls, []string{"strong"}) {
		t.Errorf("named model: res.Model=%q calls=%v err=%v; want strong only", res.Model, c.calls, err)
	}
	_, err = svc.Serve(context.Background(), Request{Model: "gpt-9", Messages: userMsg("hi")})
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindNotFound || e.Field != "model" {
		t.Errorf("unknown model: err = %v, want not_found on field model", err)
	}
}

func TestServeEmptyPrompt(t *testing.T) {
	svc, rec := newTestService(t, &scripted{}, fixedClassifier(Simple))
	for _, msgs := range [][]Message{nil, userMsg("   "), {{Role: "system", Content: "x"}}} {
		if _, err := svc.Serve(context.Background(), Request{Messages: msgs}); KindOf(err) != KindInvalid {
			t.Errorf("messages %v: err = %v, want invalid", msgs, err)
		}
	}
	if len(rec.recs) != 0 {
		t.Errorf("invalid requests were recorded: %d", len(rec.recs))
	}
}

func TestSetVersionSwapsTable(t *testing.T) {
	c := &scripted{}
	svc, _ := newTestService(t, c, fixedClassifier(Simple))
	next := Version{ID: 8, Table: Table{Simple: {"strong"}, Moderate: {"strong"}, Complex: {"strong"}}}
	if err := svc.SetVersion(next); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Serve(context.Background(), Request{Messages: userMsg("hi")})
	if err != nil || res.Model != "strong" || res.TableVersion != 8 {
		t.Errorf("after swap: model %q version %d err %v; want strong, 8", res.Model, res.TableVersion, err)
	}
	bad := Version{ID: 9, Table: Table{Simple: {"nope"}}}
	if err := svc.SetVersion(bad); err == nil || svc.Version().ID != 8 {
		t.Errorf("invalid table accepted (err %v, active %d)", err, svc.Version().ID)
	}
}

func TestNormalizePrompt(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Hello\n\tWorld  ", "hello world"},
		{"ÄB  c", "äb c"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizePrompt(tt.in); got != tt.want {
			t.Errorf("NormalizePrompt(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTableCandidates(t *testing.T) {
	tbl := Table{Simple: {"cheap"}, Moderate: {"mid"}, Complex: {"strong"}, "simple/math": {"mid", "strong"}}
	if err := tbl.Validate(testModels); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		a    Analysis
		want string
	}{
		{Analysis{Complexity: Simple, Category: "math"}, "mid"},
		{Analysis{Complexity: Simple, Category: "chat"}, "cheap"},
		{Analysis{Complexity: Moderate, Category: "math"}, "mid"},
		{Analysis{Complexity: "unknown"}, "strong"},
	}
	for _, tt := range tests {
		if got := tbl.Candidates(tt.a); got[0] != tt.want {
			t.Errorf("Candidates(%s/%s) = %v, want %s first", tt.a.Complexity, tt.a.Category, got, tt.want)
		}
	}
	for _, bad := range []Table{
		{Simple: {"cheap"}, Moderate: {"mid"}},                                          // no complex
		{Simple: {"cheap"}, Moderate: {"mid"}, Complex: {"strong"}, "extreme": {"mid"}}, // unknown complexity
		{Simple: {"cheap"}, Moderate: {"mid"}, Complex: {"strong"}, "simple/Ma th": {"mid"}},
		{Simple: {"cheap"}, Moderate: {"mid"}, Complex: {"strong"}, "simple/math": {}},
		{Simple: {"cheap"}, Moderate: {"mid"}, Complex: {"strong"}, "Simple/math": {"mid"}},
	} {
		if err := bad.Validate(testModels); err == nil {
			t.Errorf("Validate(%v) = nil, want an error", bad)
		}
	}
}

// promptSeer is a Classifier that keeps the prompts it was handed.
type promptSeer struct {
	mu   sync.Mutex
	seen []Prompt
}

func (c *promptSeer) Classify(ctx context.Context, p Prompt) (Analysis, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, p)
	return Analysis{Complexity: Simple, Tier: TierHeuristic}, nil
}

// The prompt is prepared once per request and carried along: the
// classifier gets the raw text with its normalised form and hash, the
// local model that normalised form, and the record that hash (issue 10,
// item 6). A mixed-case, multi-space prompt would show any step that
// normalised or hashed on its own differently.
func TestServePreparesPromptOnce(t *testing.T) {
	const raw = "  Prove   THAT\tIt  Holds \n"
	want := Prompt{Raw: raw, Text: "prove that it holds", Hash: HashPrompt(raw)}
	if got := PreparePrompt(raw); got != want {
		t.Fatalf("PreparePrompt(%q) = %+v, want %+v", raw, got, want)
	}
	cls := &promptSeer{}
	svc, rec := newTestService(t, &scripted{}, cls)
	pred := &fakePredictor{success: []float64{0.5, 0.88, 0.9}}
	if err := svc.Activate(Version{ID: 9, Table: testTable, Policy: testPolicy}, pred); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Serve(context.Background(), Request{Messages: userMsg(raw)}); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if len(cls.seen) != 1 || cls.seen[0] != want {
		t.Errorf("classifier saw %+v, want %+v", cls.seen, want)
	}
	if len(pred.prompts) != 1 || pred.prompts[0] != want.Text {
		t.Errorf("predictor saw %q, want %q", pred.prompts, want.Text)
	}
	if len(rec.recs) != 1 || rec.recs[0].PromptHash != want.Hash {
		t.Errorf("recorded prompt hash %v, want %s", rec.recs, want.Hash)
	}
}
