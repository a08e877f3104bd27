package main

// The fault wall's end-to-end rows (FAULTS.md; docs/FAULTWALL.md maps
// every row to its test): the real `switchyard serve`, the faketest
// upstream and the real openai-go client, each bounded in time and
// checked for leaked goroutines.

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/switchyard/switchyard/internal/faketest"
)

// wallRow starts a fault-wall row: a faketest upstream, serve with
// routing over models, an openai-go client with the SDK's default
// retries (clients retry; F16), a deadline, and a goroutine check run
// after everything the row started has stopped.
func wallRow(t *testing.T, server string, models []string, routing string) (*faketest.Server, *instance, openai.Client, context.Context) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() { noLeak(t, before) }) // runs last
	up := faketest.New()
	t.Cleanup(up.Close)
	in := startServeYAML(t, faultConfig(up.URL, server, models, routing), nil)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	client := openai.NewClient(option.WithBaseURL(in.url+"/v1"), option.WithAPIKey("unused"), option.WithHTTPClient(&http.Client{Transport: tr}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return up, in, client, ctx
}

// noLeak fails t when goroutines started during the row outlive it.
func noLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before+2 { // slack for the runtime's own helpers
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Errorf("goroutines: %d before the row, %d after it stopped\n%s", before, n, buf[:runtime.Stack(buf, true)])
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func user(s string) []openai.ChatCompletionMessageParamUnion {
	return []openai.ChatCompletionMessageParamUnion{openai.UserMessage(s)}
}

// F3: an upstream that accepts and never answers is abandoned at the
// first-byte timer, not retried, and the next model answers well within
// the request's deadline, plain and streamed.
func TestFaultWallF3SilentUpstream(t *testing.T) {
	up, _, client, ctx := wallRow(t, "  first_byte_timeout: 300ms\n  attempt_timeout: 30s",
		[]string{"silent-a", "ok-a"}, "  simple: [silent-a, ok-a]\n  moderate: [silent-a, ok-a]\n  complex: [silent-a, ok-a]")
	start := time.Now()
	resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "auto", Messages: user("What is 2 + 2?")})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != faketest.Answer("ok-a") {
		t.Errorf("answer = %q, want ok-a's", got)
	}
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "auto", Messages: user("What is 3 + 3?")})
	var text strings.Builder
	for stream.Next() {
		for _, c := range stream.Current().Choices {
			text.WriteString(c.Delta.Content)
		}
	}
	if err := stream.Err(); err != nil || text.String() != faketest.Answer("ok-a") {
		t.Errorf("stream = %q, %v; want ok-a's answer", text.String(), err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("two requests past a silent model took %v, want about 2 × 300ms (attempt timeout 30s)", took)
	}
	silent := 0
	for _, a := range up.Attempts() {
		if a.Model == "silent-a" {
			silent++
		}
	}
	if silent != 2 {
		t.Errorf("silent model called %d times for 2 requests, want 2 (never retried)", silent)
	}
}

// F16 with F2: a model failing with 503 sees at most 1 + 2 calls per
// client request, although the SDK retries 5xx by default: the final
// 502 says x-should-retry: false.
func TestFaultWallF16NoRetryStacking(t *testing.T) {
	up, _, client, ctx := wallRow(t, "  first_byte_timeout: 5s",
		[]string{"status-503", "ok-a"}, "  simple: [status-503]\n  moderate: [status-503]\n  complex: [status-503]")
	_, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "auto", Messages: user("hi")})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 {
		t.Fatalf("err = %v, want a 502", err)
	}
	if n := len(up.Attempts()); n != 3 {
		t.Errorf("upstream calls = %d for one client request, want 3 (1 + our 2 retries, none stacked by the SDK)", n)
	}
}

// F8: a prompt larger than every candidate's context window is a 400
// naming messages, before any upstream call.
func TestFaultWallF8PromptTooLong(t *testing.T) {
	up, _, client, ctx := wallRow(t, "  first_byte_timeout: 5s", []string{"ok-a", "ok-b"},
		"  simple: [ok-a, ok-b]\n  moderate: [ok-a, ok-b]\n  complex: [ok-a, ok-b]")
	// faultConfig's models take 100,000 tokens: about 400 KB of prompt.
	_, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "auto", Messages: user(strings.Repeat("word ", 90000))})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "messages" {
		t.Fatalf("err = %v, want a 400 naming messages", err)
	}
	if n := len(up.Attempts()); n != 0 {
		t.Errorf("upstream calls = %d, want none", n)
	}
}
