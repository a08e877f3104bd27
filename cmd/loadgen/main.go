// Command loadgen is Switchyard's overhead benchmark (run it through
// scripts/bench-overhead.sh). Subcommands:
//
//	loadgen stub  --addr A            an OpenAI-compatible upstream answering at once
//	loadgen proxy --addr A --target U a bare httputil.ReverseProxy to U
//	loadgen bench --switchyard BIN …  starts both and Switchyard, drives each
//	                                  open-loop, prints the table
//
// It is a development tool: it is not part of the switchyard binary and
// binds loopback addresses only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("want a subcommand: stub, proxy or bench")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	switch args[0] {
	case "stub":
		addr := fs.String("addr", "127.0.0.1:0", "listen address")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return listen(ctx, *addr, http.HandlerFunc(stub))
	case "proxy":
		addr := fs.String("addr", "127.0.0.1:0", "listen address")
		target := fs.String("target", "", "upstream base URL")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		u, err := url.Parse(*target)
		if err != nil || u.Host == "" {
			return fmt.Errorf("--target %q: want a URL", *target)
		}
		p := httputil.NewSingleHostReverseProxy(u)
		// As many idle connections as the load generator opens, so the
		// proxy is measured, not its connection churn.
		p.Transport = &http.Transport{MaxIdleConnsPerHost: 1024}
		return listen(ctx, *addr, p)
	case "bench":
		return bench(ctx, fs, args[1:])
	default:
		return fmt.Errorf("unknown subcommand %q: want stub, proxy or bench", args[0])
	}
}

func listen(ctx context.Context, addr string, h http.Handler) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// stubAnswer is a complete chat completion, usage included, as an
// upstream returning at once would send it.
const stubAnswer = `{"id":"chatcmpl-stub","object":"chat.completion","created":1764460800,"model":"stub","choices":[{"index":0,"message":{"role":"assistant","content":"The answer is 42."},"finish_reason":"stop"}],"usage":{"prompt_tokens":80,"completion_tokens":6,"total_tokens":86}}`

func stub(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, `{"error":{"message":"POST only"}}`, http.StatusMethodNotAllowed)
		return
	}
	// Read the request as an upstream must, then answer.
	buf := make([]byte, 4096)
	for {
		if _, err := r.Body.Read(buf); err != nil {
			break
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(stubAnswer))
}
