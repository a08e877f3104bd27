package web

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/router"
)

func TestUSDUnits(t *testing.T) {
	tests := []struct {
		m    router.Micros
		want string
	}{
		{0, "$0"},
		{5, "$0.000005"},
		{1234, "$0.001234"},
		{12_345, "$0.0123"},
		{987_654, "$0.9877"},
		{1_000_000, "$1.00"},
		{12_345_678, "$12.35"},
		{-12_345, "$-0.0123"},
	}
	for _, tt := range tests {
		if got := usd(tt.m); got != tt.want {
			t.Errorf("usd(%d) = %q, want %q", tt.m, got, tt.want)
		}
	}
}

// TestEmptySpendDaysCollapse: a run of days without traffic is one row,
// never rows of $0.000000.
func TestEmptySpendDaysCollapse(t *testing.T) {
	f := newFake()
	f.spend = []router.Spend{
		{Date: "2026-11-21"}, {Date: "2026-11-22"}, {Date: "2026-11-23"},
		{Date: "2026-11-24", Total: 2_500_000, Prompts: 900, Baseline: 9_000_000},
		{Date: "2026-11-25"},
		{Date: "2026-11-26", Total: 1000, Prompts: 3, Baseline: 5000},
		{Date: "2026-11-27"},
	}
	body := get(t, newTestHandler(f, testToken), "/admin", bearer(testToken)).Body.String()
	for _, want := range []string{
		"<td>2026-11-21 to 2026-11-23</td><td colspan=\"5\" class=\"thin-note\">no traffic (3 days)",
		"<td>2026-11-25</td><td colspan=\"5\" class=\"thin-note\">no traffic</td>",
		"$2.50", "$9.00", "$6.50", // the busy day, in dollars and cents
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if strings.Contains(body, "$0.000000") {
		t.Errorf("overview shows $0.000000")
	}
	if n := strings.Count(body, `class="empty-days"`); n != 3 {
		t.Errorf("%d empty-day rows, want 3 (21-23, 25, 27)", n)
	}
}
