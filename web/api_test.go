package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard/switchyard/internal/edge"
	"github.com/switchyard/switchyard/router"
)

func TestAdminAPI(t *testing.T) {
	h := newTestHandler(newFake(), testToken)
	t.Run("versions", func(t *testing.T) {
		var got struct{ Versions []router.Version }
		decode(t, get(t, h, "/admin/api/versions", bearer(testToken)), &got)
		if len(got.Versions) != 2 || got.Versions[0].ID != 2 || got.Versions[0].Note != xssNote {
			t.Errorf("versions = %+v, want v2 (with its note) then v1", got.Versions)
		}
	})
	t.Run("version", func(t *testing.T) {
		var got router.Version
		decode(t, get(t, h, "/admin/api/versions/2", bearer(testToken)), &got)
		if got.ID != 2 || got.Provenance.Stats["simple"]["gpt-4o-mini"].Samples != 60 {
			t.Errorf("version = %+v, want v2 with its provenance", got)
		}
	})
	t.Run("diff", func(t *testing.T) {
		var got router.TableDiff
		decode(t, get(t, h, "/admin/api/diff?a=1&b=2", bearer(testToken)), &got)
		changed := got.Changed()
		if len(changed) != 1 || changed[0].Bucket != "simple" || !changed[0].FirstChanged {
			t.Errorf("diff changed = %+v, want bucket simple with a first-choice change", changed)
		}
	})
	t.Run("spend", func(t *testing.T) {
		var got struct{ Days []edge.Day }
		decode(t, get(t, h, "/admin/api/spend?from=2026-11-20&to=2026-11-27", bearer(testToken)), &got)
		if len(got.Days) != 2 || got.Days[1].SavingsVsBaseline != 0.008766 || got.Days[1].BaselineModel != "gpt-4o" {
			t.Errorf("spend = %+v, want two days, savings 0.008766 against gpt-4o", got.Days)
		}
	})
	t.Run("query token on the API needs no redirect", func(t *testing.T) {
		if rec := get(t, h, "/admin/api/versions?token="+testToken, nil); rec.Code != http.StatusOK {
			t.Errorf("status = %d, want 200", rec.Code)
		}
	})
	for _, target := range []string{"/admin/api/spend?from=2026-13-01", "/admin/api/spend?from=2026-11-27&to=2026-11-01", "/admin/api/spend?from=2020-01-01&to=2026-01-01"} {
		if rec := get(t, h, target, bearer(testToken)); rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status = %d, want 400", target, rec.Code)
		}
	}
}

func decode(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
}
