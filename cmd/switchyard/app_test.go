package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/config"
)

// demoApp builds serve's pieces from the demo configuration on a fresh
// SQLite file, without listening: nothing here calls an upstream.
func demoApp(t *testing.T) *app {
	t.Helper()
	env := map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "sy.db")}
	cfg, err := config.Load("../../config/demo.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := buildApp(context.Background(), cfg, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.close(context.Background()) })
	return a
}

// TestBuildApp checks the wiring serve runs: the configured table seeds
// version 1, the routes answer through the handler serve would listen
// with, and a promotion reaches the service through activate.
func TestBuildApp(t *testing.T) {
	a := demoApp(t)
	if got := a.service.Version().ID; got != 1 || a.version.ID != 1 {
		t.Fatalf("service version = %d (start %d), want the seeded version 1", got, a.version.ID)
	}
	h := a.handler()
	for _, tt := range []struct {
		path string
		want int
	}{
		{"/healthz", http.StatusOK},
		{"/readyz", http.StatusOK},
		{"/v1/models", http.StatusOK},
		{"/metrics", http.StatusOK},
		{"/nowhere", http.StatusNotFound},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
		if rec.Code != tt.want {
			t.Errorf("GET %s = %d, want %d: %s", tt.path, rec.Code, tt.want, rec.Body)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/models", nil))
	var models struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &models); err != nil || len(models.Data) != len(a.cfg.Models)+1 {
		t.Errorf("/v1/models = %s (%v), want auto and the %d configured models", rec.Body, err, len(a.cfg.Models))
	}

	ctx := context.Background()
	v := a.version
	v.ID = 0
	v.Table = a.cfg.Table()
	stored, err := a.store.CreateVersion(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.activate(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if got := a.service.Version().ID; got != stored.ID {
		t.Errorf("after activate: service version = %d, want %d", got, stored.ID)
	}
}

// TestBuildAppClose shows close releasing the database once: a second
// close is a no-op, not a double close.
func TestBuildAppClose(t *testing.T) {
	a := demoApp(t)
	if err := a.close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	if a.store != nil || a.recorder != nil {
		t.Error("close left the store or the recorder in place")
	}
	if err := a.close(context.Background()); err != nil {
		t.Errorf("second close: %v", err)
	}
}

// TestBuildAppFailsOnBadDatabase shows a build error naming what failed.
func TestBuildAppFailsOnBadDatabase(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "nosuchdb://x"}
	cfg, err := config.Load("../../config/demo.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	_, err = buildApp(context.Background(), cfg, newLogger(io.Discard))
	if err == nil || !strings.Contains(err.Error(), "open database") {
		t.Errorf("buildApp on an unknown database = %v, want an error naming the database", err)
	}
}
