package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/internal/loadgen"
	"github.com/switchyard/switchyard/internal/store"
)

// target is one column of the benchmark: what is driven and how its
// process is started for a row.
type target struct {
	name string
	// body is the i-th request.
	body func(i int) []byte
	// kind: "direct" (the stub itself), "proxy" or "switchyard".
	kind string
}

// row is one run's figures.
type row struct {
	target   string
	rate     string // "500/s", "saturation", "overload 3x"
	res      loadgen.Result
	cpuUS    float64 // CPU microseconds of the target's process per answered request
	rssMB    float64 // the process's peak resident memory
	records  int64   // rows written, Switchyard only; -1 otherwise
	p50, p99 time.Duration
}

type benchConfig struct {
	switchyard string
	rates      []float64
	duration   time.Duration
	conns      int // connections at fixed rates and overload
	satConns   int
	overload   float64
	maxReqs    int
	pprofAddr  string
	workDir    string
	self       string // this binary, which serves the stub and the proxy
}

func bench(ctx context.Context, fs *flag.FlagSet, args []string) error {
	var bc benchConfig
	var err error
	rates := fs.String("rates", "500,1000", "fixed rates, requests per second, comma-separated")
	fs.StringVar(&bc.switchyard, "switchyard", "bin/switchyard", "the switchyard binary")
	fs.DurationVar(&bc.duration, "duration", 5*time.Second, "sending time of each run")
	fs.IntVar(&bc.conns, "conns", 512, "client connections at fixed rates and in overload")
	fs.IntVar(&bc.satConns, "sat-conns", 64, "closed-loop workers at saturation")
	fs.Float64Var(&bc.overload, "overload", 3, "overload run's rate as a multiple of the target's saturation throughput (0: skip)")
	fs.IntVar(&bc.maxReqs, "max-requests", 200000, "cap on requests per run")
	fs.StringVar(&bc.pprofAddr, "pprof", "", "serve Switchyard's profiler on this loopback address (profiling runs)")
	only := fs.String("only", "", "comma-separated targets to run (default all: direct, proxy, named, auto-repeated, auto-distinct)")
	timeout := fs.Duration("timeout", 15*time.Minute, "bound on the whole benchmark")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, s := range strings.Split(*rates, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		r, err := strconv.ParseFloat(s, 64)
		if err != nil || r <= 0 {
			return fmt.Errorf("--rates: %q is not a positive rate", s)
		}
		bc.rates = append(bc.rates, r)
	}
	if _, err := os.Stat(bc.switchyard); err != nil {
		return fmt.Errorf("--switchyard: %w (build it: go build -o bin/switchyard ./cmd/switchyard)", err)
	}
	// Children run in a temporary directory: name binaries absolutely.
	if bc.switchyard, err = filepath.Abs(bc.switchyard); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "switchyard-bench-")
	bc.self = self
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bc.workDir = dir

	stubAddr := freeAddr()
	stubProc, err := startProc(ctx, dir, "stub", self, []string{"stub", "--addr", stubAddr}, nil, "http://"+stubAddr, false)
	if err != nil {
		return err
	}
	defer stubProc.stop()

	targets := []target{
		{name: "direct", kind: "direct", body: fixedBody("stub-small")},
		{name: "proxy", kind: "proxy", body: fixedBody("stub-small")},
		{name: "named", kind: "switchyard", body: fixedBody("stub-small")},
		{name: "auto-repeated", kind: "switchyard", body: fixedBody("auto")},
		{name: "auto-distinct", kind: "switchyard", body: distinctBody},
	}
	want := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	fmt.Printf("# loadgen bench: %s, %d cores, rates %v/s, %s per run, saturation with %d workers\n",
		time.Now().UTC().Format(time.DateOnly), numCPU(), bc.rates, bc.duration, bc.satConns)
	var rows []row
	for _, t := range targets {
		if len(want) > 0 && !want[t.name] {
			continue
		}
		for _, rate := range bc.rates {
			r, err := bc.runRow(ctx, t, stubProc, stubAddr, rate, fmt.Sprintf("%g/s", rate))
			if err != nil {
				return fmt.Errorf("%s at %g/s: %w", t.name, rate, err)
			}
			rows = append(rows, r)
		}
		sat, err := bc.runRow(ctx, t, stubProc, stubAddr, 0, "saturation")
		if err != nil {
			return fmt.Errorf("%s at saturation: %w", t.name, err)
		}
		rows = append(rows, sat)
		if bc.overload > 0 && t.kind == "switchyard" {
			rate := bc.overload * sat.res.Throughput()
			r, err := bc.runRow(ctx, t, stubProc, stubAddr, rate, fmt.Sprintf("overload %gx (%.0f/s)", bc.overload, rate))
			if err != nil {
				return fmt.Errorf("%s in overload: %w", t.name, err)
			}
			rows = append(rows, r)
		}
	}
	printRows(os.Stdout, rows)
	printRatios(os.Stdout, rows, bc.rates)
	return nil
}

// runRow starts the target's process (the stub serves direct rows),
// drives it once and stops it.
func (bc *benchConfig) runRow(ctx context.Context, t target, stubProc *proc, stubAddr string, rate float64, label string) (row, error) {
	stubURL := "http://" + stubAddr
	p := stubProc
	url := stubURL + "/v1/chat/completions"
	var db string
	switch t.kind {
	case "proxy":
		addr := freeAddr()
		pp, err := startProc(ctx, bc.workDir, "proxy", bc.self, []string{"proxy", "--addr", addr, "--target", stubURL}, nil, "http://"+addr, false)
		if err != nil {
			return row{}, err
		}
		defer pp.stop()
		p, url = pp, "http://"+addr+"/v1/chat/completions"
	case "switchyard":
		addr := freeAddr()
		rowDir, err := os.MkdirTemp(bc.workDir, t.name+"-")
		if err != nil {
			return row{}, err
		}
		cfg := filepath.Join(rowDir, "switchyard.yaml")
		if err := os.WriteFile(cfg, []byte(switchyardConfig(addr, stubURL, bc.pprofAddr)), 0o600); err != nil {
			return row{}, err
		}
		db = "sqlite:" + filepath.Join(rowDir, "switchyard.db")
		sp, err := startProc(ctx, rowDir, "switchyard", bc.switchyard, []string{"serve", "--config", cfg},
			[]string{"DATABASE_URL=" + db}, "http://"+addr+"/healthz", true)
		if err != nil {
			return row{}, err
		}
		defer sp.stop()
		p, url = sp, "http://"+addr+"/v1/chat/completions"
	}

	conns := bc.conns
	if rate == 0 {
		conns = bc.satConns
	}
	before := p.cpuTicks()
	res := loadgen.Run(ctx, loadgen.Options{URL: url, Body: t.body, Rate: rate, Conns: conns, Duration: bc.duration, MaxRequests: bc.maxReqs})
	ticks := p.cpuTicks() - before
	r := row{target: t.name, rate: label, res: res, records: -1, rssMB: p.peakRSSMB(),
		p50: loadgen.Percentile(res.Latency, 50), p99: loadgen.Percentile(res.Latency, 99)}
	if answered := res.OK + res.Refused; answered > 0 {
		r.cpuUS = float64(ticks) * 1e6 / clockTicks / float64(answered)
	}
	if t.kind == "switchyard" {
		// SIGTERM flushes every buffered record; then count the rows.
		if err := p.stop(); err != nil {
			return row{}, fmt.Errorf("switchyard did not stop cleanly: %w; log: %s", err, p.logPath)
		}
		n, err := countRecords(ctx, db)
		if err != nil {
			return row{}, err
		}
		r.records = n
	}
	fmt.Fprintf(os.Stderr, "%-14s %-24s sent %6d ok %6d refused %6d failed %5d  p50 %8s p99 %8s\n",
		t.name, label, res.Sent, res.OK, res.Refused, res.Failed, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond))
	return r, nil
}

func countRecords(ctx context.Context, db string) (int64, error) {
	st, err := store.Open(ctx, db, nil)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", db, err)
	}
	defer st.Close()
	return st.CountRequests(ctx)
}

// switchyardConfig routes every bucket to the stub with the heuristic
// classifier (no classification call), no exploration, no learner, and
// the default admission bound (twice the provider's concurrency).
func switchyardConfig(addr, stubURL, pprofAddr string) string {
	return fmt.Sprintf(`server:
  addr: %q
  pprof_addr: %q
providers:
  - {name: stub, base_url: %q, max_concurrency: 64}
models:
  - {name: stub-small, provider: stub, input_per_mtok: 0.1, output_per_mtok: 0.2}
  - {name: stub-large, provider: stub, input_per_mtok: 2, output_per_mtok: 8}
routing:
  simple: [stub-small, stub-large]
  moderate: [stub-small, stub-large]
  complex: [stub-large]
baseline_model: stub-large
classifier: {model: ""}
exploration: 0
learner: {enabled: false}
`, addr, pprofAddr, stubURL+"/v1")
}

// prompt is padded so that a request body is 336 bytes, the issue's
// request size.
const prompt = "Summarise in two sentences why a gateway in front of many language models should refuse excess load at once instead of queueing it, and say what a client should do when it is refused."

func fixedBody(model string) func(int) []byte {
	b := chatRequest(model, prompt)
	return func(int) []byte { return b }
}

// distinctBody makes every prompt new: no cache can answer it.
func distinctBody(i int) []byte {
	return chatRequest("auto", fmt.Sprintf("%s (#%d)", prompt, i))
}

func chatRequest(model, content string) []byte {
	b := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":%q}]}`, model, content)
	if pad := 336 - len(b); pad > 0 {
		b = fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":%q}]}`, model, content+strings.Repeat(" ", pad))
	}
	return []byte(b)
}

// proc is a child process of the benchmark.
type proc struct {
	cmd     *exec.Cmd
	logPath string
	done    chan error
}

func startProc(ctx context.Context, dir, name, bin string, args, env []string, readyURL string, httpReady bool) (*proc, error) {
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{cmd: cmd, logPath: logPath, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); logf.Close() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if ready(readyURL, httpReady) {
			return p, nil
		}
		select {
		case err := <-p.done:
			p.done <- err
			return nil, fmt.Errorf("%s exited before it was ready (%v); log: %s", name, err, logPath)
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s not ready after 20s; log: %s", name, logPath)
		}
	}
}

func ready(u string, httpReady bool) bool {
	if httpReady {
		resp, err := http.Get(u)
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	host := strings.TrimPrefix(u, "http://")
	c, err := net.DialTimeout("tcp", host, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// stop sends SIGTERM and waits up to 30s, then kills. Stopping twice is
// harmless.
func (p *proc) stop() error {
	if p.cmd.ProcessState != nil {
		return nil
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		err := <-p.done
		p.done <- err
		return fmt.Errorf("killed after 30s: %v", err)
	}
}

// freeAddr returns a loopback address free a moment ago.
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
