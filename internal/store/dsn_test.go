package store

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url, dialect, dsn string
	}{
		{"postgres://u:p@h:5432/db?sslmode=disable", DialectPostgres, "postgres://u:p@h:5432/db?sslmode=disable"},
		{"postgresql://h/db", DialectPostgres, "postgresql://h/db"},
		{"sqlite:data/switchyard.db", DialectSQLite, "data/switchyard.db"},
		{"sqlite:///var/lib/s.db", DialectSQLite, "/var/lib/s.db"},
		{"sqlite::memory:", DialectSQLite, ":memory:"},
		{"./data/s.db", DialectSQLite, "./data/s.db"},
	}
	for _, tt := range tests {
		d, dsn, err := parseURL(tt.url)
		if err != nil {
			t.Errorf("parseURL(%q): %v", tt.url, err)
			continue
		}
		if d != tt.dialect || dsn != tt.dsn {
			t.Errorf("parseURL(%q) = %q, %q; want %q, %q", tt.url, d, dsn, tt.dialect, tt.dsn)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, secret string }{
		{"postgres://user:s3cret@db:5432/x", "s3cret"},
		{"postgres://user:s3cret@db:5432/x?sslmode=require", "s3cret"},
		{"postgres://user:%zz@db/x", "%zz"}, // unparseable
	}
	for _, tt := range tests {
		got := redact(tt.in)
		if strings.Contains(got, tt.secret) {
			t.Errorf("redact(%q) = %q: shows the password", tt.in, got)
		}
	}
	if got, want := redact("data/s.db"), "data/s.db"; got != want {
		t.Errorf("redact(path) = %q, want %q", got, want)
	}
}

func TestOpenErrorHidesPassword(t *testing.T) {
	// Nothing listens on port 1; the error must still not show the
	// password.
	_, err := Open(t.Context(), "postgres://u:topsecret@127.0.0.1:1/x?connect_timeout=2", nil)
	if err == nil {
		t.Fatal("Open: got nil error, want one")
	}
	if strings.Contains(err.Error(), "topsecret") {
		t.Errorf("Open error %q shows the password", err)
	}
}
