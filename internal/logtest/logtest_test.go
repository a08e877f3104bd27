package logtest

import (
	"log/slog"
	"testing"
)

func TestHandlerCounts(t *testing.T) {
	h, log := New()
	log.Debug("quiet")
	log.With("component", "recorder").Warn("slow", "n", 3)
	log.Error("down")
	tests := []struct {
		min  slog.Level
		want int
	}{
		{slog.LevelDebug, 3},
		{slog.LevelInfo, 2},
		{slog.LevelWarn, 2},
		{slog.LevelError, 1},
	}
	for _, tt := range tests {
		if got := h.Count(tt.min); got != tt.want {
			t.Errorf("Count(%s) = %d, want %d", tt.min, got, tt.want)
		}
	}
	if got := h.Lines()[1].Attrs; got["component"] != "recorder" || got["n"] != "3" {
		t.Errorf("attrs = %v, want component=recorder (from With) and n=3", got)
	}
}
