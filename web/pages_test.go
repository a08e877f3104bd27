package web

import (
	"strings"
	"testing"
)

func TestAdminPages(t *testing.T) {
	h := newTestHandler(newFake(), testToken)
	tests := []struct {
		target string
		status int
		want   []string
	}{
		{"/admin", 200, []string{`id="active-version"`, ">v2<", "$0.001234", "$0.008766", "87.7%", "$0.002234", "openai", "&lt;b&gt;demo&lt;/b&gt;.jsonl"}},
		{"/admin/versions/2", 200, []string{"gpt-4o-mini &gt; llama-3.1-8b-instant", "0.950", "$0.000040", "target",
			`id="policy"`, "gap 0.120 (keep 95% of gpt-4o; predicted quality 96.2%, cost 41.0%) over llama-3.1-8b-instant &lt; gpt-4o-mini &lt; gpt-4o", "margin 0.012 on 800 prompts"}},
		{"/admin/versions/1", 200, []string{"No fitted statistics"}},
		{"/admin/diff?a=1&b=2", 200, []string{"1 of 2 buckets changed; per-prompt policy changed", "<code>(none)</code> &rarr; <code>0123456789ab</code>",
			"none (the bucket table routes) &rarr; gap 0.120 (keep 95% of gpt-4o; predicted quality 96.2%, cost 41.0%)", `class="changed first-choice"`, "llama-3.1-8b-instant &rarr; gpt-4o-mini", "Unchanged: complex", "Predicted quality <span class=\"ev\" data-n=\"60\"", "0.700 <small>[0.57, 0.80] n=60</small>",
			`<p id="why" class="why">Kept: in simple the estimate rises from 0.700 to 0.950, but its margin`}},
		{"/admin/diff", 200, []string{"v1</a> &rarr; <a href=\"/admin/versions/2\">v2"}},
		{"/admin/versions/9", 404, []string{"no routing-table version 9"}},
		{"/admin/versions/x", 400, []string{"want a positive version number"}},
		{"/admin/diff?b=1", 200, []string{"0 of 2 buckets changed", "Unchanged: complex, simple"}}, // the first version: compared with itself
		{"/admin/nope", 404, []string{"no route"}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			rec := get(t, h, tt.target, bearer(testToken))
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			for _, w := range tt.want {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("body lacks %q:\n%s", w, rec.Body)
				}
			}
		})
	}
}

// TestAdminEscapesNotes is FAULTS.md B7: a note carrying HTML is shown as
// text wherever it appears.
func TestAdminEscapesNotes(t *testing.T) {
	h := newTestHandler(newFake(), testToken)
	for _, target := range []string{"/admin", "/admin/versions/2"} {
		body := get(t, h, target, bearer(testToken)).Body.String()
		if strings.Contains(body, xssNote) {
			t.Errorf("%s: the note is rendered unescaped", target)
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s: the escaped note is missing", target)
		}
		if strings.Count(withoutOwnScript(body), "<script") != 0 {
			t.Errorf("%s: page has a <script> element", target)
		}
	}
}

// ownScriptTag is the layout's one script, static/time.js, served by the
// app itself; any other <script> on a page is a fault.
const ownScriptTag = `<script src="/admin/static/time.js" defer></script>`

func withoutOwnScript(body string) string { return strings.Replace(body, ownScriptTag, "", 1) }
