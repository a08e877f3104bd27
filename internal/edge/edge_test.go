package edge

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/switchyard/switchyard/router"
)

func TestStatusAndType(t *testing.T) {
	tests := []struct {
		kind   router.Kind
		status int
		typ    string
	}{
		{router.KindInvalid, http.StatusBadRequest, "invalid_request_error"},
		{router.KindNotFound, http.StatusNotFound, "invalid_request_error"},
		{router.KindTooLarge, http.StatusRequestEntityTooLarge, "invalid_request_error"},
		{router.KindConflict, http.StatusConflict, "invalid_request_error"},
		{router.KindUnavailable, http.StatusBadGateway, "upstream_error"},
		{router.KindInternal, http.StatusInternalServerError, "server_error"},
	}
	for _, tt := range tests {
		if got := Status(tt.kind); got != tt.status {
			t.Errorf("Status(%s) = %d, want %d", tt.kind, got, tt.status)
		}
		if got := Type(tt.kind); got != tt.typ {
			t.Errorf("Type(%s) = %q, want %q", tt.kind, got, tt.typ)
		}
	}
}

func TestClientErrorHidesInternalText(t *testing.T) {
	if e := ClientError(errors.New("dial tcp 10.0.0.5: refused")); e.Kind != router.KindInternal || e.Message != "internal error" {
		t.Errorf("ClientError(plain) = %+v, want a generic internal error", e)
	}
	in := router.Errorf(router.KindInvalid, "prompt", "must not be empty")
	if e := ClientError(in); e != in {
		t.Errorf("ClientError(router error) = %+v, want it unchanged", e)
	}
}

func TestErrorBody(t *testing.T) {
	for param, want := range map[string]string{
		"":       `{"error":{"code":"c","message":"m","param":null,"type":"t"}}`,
		"prompt": `{"error":{"code":"c","message":"m","param":"prompt","type":"t"}}`,
	} {
		b, err := json.Marshal(ErrorBody("m", "t", param, "c"))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Errorf("ErrorBody(param %q) = %s, want %s", param, b, want)
		}
	}
}

func TestNewDay(t *testing.T) {
	d := NewDay(router.Spend{Date: "2026-11-27", Total: 2_500_000, Baseline: 10_000_000, Prompts: 3,
		ByModel: map[string]router.Micros{"gpt-4o-mini": 2_500_000}}, "gpt-4o")
	if d.TotalSpend != 2.5 || d.BaselineCost != 10 || d.SavingsVsBaseline != 7.5 || d.SavingsPct != 75 ||
		d.TotalPrompts != 3 || d.BaselineModel != "gpt-4o" || d.ByModel["gpt-4o-mini"] != 2.5 {
		t.Errorf("NewDay = %+v, want 2.5 spent of a 10 baseline, 75%% saved", d)
	}
	if d := NewDay(router.Spend{Total: 5}, "gpt-4o"); d.SavingsPct != 0 {
		t.Errorf("NewDay without a baseline: savings_pct = %v, want 0", d.SavingsPct)
	}
}
