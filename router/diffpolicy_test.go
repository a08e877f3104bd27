package router

import (
	"bytes"
	"strings"
	"testing"
)

func TestDiffPolicy(t *testing.T) {
	pol := func(param, q, c float64) *PromptPolicy {
		return &PromptPolicy{Models: []string{"cheap", "mid", "strong"}, Point: OperatingPoint{
			Rule: RuleGap, Param: param, KeepQuality: 0.95, Baseline: "strong", QualityShare: q, CostShare: c, Margin: 0.01, Samples: 900}}
	}
	withModel := func(v Version, digest string) Version { v.Provenance.LocalModel = digest; return v }
	base := Version{ID: 1, Table: testTable}
	tests := []struct {
		name          string
		a, b          Version
		wantNil       bool
		model, point  bool
		models        bool
		text, notText []string
	}{
		{name: "neither has a policy or model", a: base, b: Version{ID: 2, Table: testTable}, wantNil: true},
		{name: "policy added", a: withModel(base, "aaaaaaaaaaaaaaaa"), b: withModel(Version{ID: 2, Table: testTable, Policy: pol(0.1, 0.961, 0.42)}, "aaaaaaaaaaaaaaaa"),
			point: true, models: true,
			text: []string{"per-prompt policy changed", "operating point: (none: the bucket table routes) -> gap 0.100 for keeping 95% of strong",
				"replay predicted: (none) -> quality 96.1%, cost 42.0% of strong (margin 0.010, n=900)", "bucket table -> per-prompt policy"},
			notText: []string{"local model:"}},
		{name: "point and model changed", a: withModel(Version{ID: 2, Table: testTable, Policy: pol(0.1, 0.961, 0.42)}, "aaaaaaaaaaaaaaaa"),
			b: withModel(Version{ID: 3, Table: testTable, Policy: pol(0.15, 0.953, 0.35)}, "bbbbbbbbbbbbbbbb"), model: true, point: true,
			text: []string{"local model:     aaaaaaaaaaaa -> bbbbbbbbbbbb", "gap 0.100 for keeping 95% of strong -> gap 0.150",
				"quality 96.1%, cost 42.0% of strong (margin 0.010, n=900) -> quality 95.3%, cost 35.0%"}},
		{name: "policy removed (rollback)", a: withModel(Version{ID: 3, Table: testTable, Policy: pol(0.15, 0.953, 0.35)}, "bbbbbbbbbbbbbbbb"), b: base,
			model: true, point: true, models: true, text: []string{"bbbbbbbbbbbb -> (none)", "per-prompt policy -> bucket table"}},
		{name: "unchanged", a: withModel(Version{ID: 2, Table: testTable, Policy: pol(0.1, 0.961, 0.42)}, "aaaaaaaaaaaaaaaa"),
			b:    withModel(Version{ID: 3, Table: testTable, Policy: pol(0.1, 0.96, 0.41)}, "aaaaaaaaaaaaaaaa"),
			text: []string{"per-prompt policy: unchanged (gap 0.100"}, notText: []string{"policy changed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Diff(tt.a, tt.b)
			if tt.wantNil {
				if d.Policy != nil {
					t.Errorf("policy diff = %+v, want none", d.Policy)
				}
				return
			}
			p := d.Policy
			if p == nil {
				t.Fatal("no policy diff")
			}
			if p.ModelChanged != tt.model || p.PointChanged != tt.point || p.ModelsChanged != tt.models {
				t.Errorf("changed: model %v point %v models %v; want %v %v %v", p.ModelChanged, p.PointChanged, p.ModelsChanged, tt.model, tt.point, tt.models)
			}
			var buf bytes.Buffer
			if err := d.WriteText(&buf); err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.text {
				if !strings.Contains(buf.String(), s) {
					t.Errorf("text lacks %q:\n%s", s, buf.String())
				}
			}
			for _, s := range tt.notText {
				if strings.Contains(buf.String(), s) {
					t.Errorf("text has %q:\n%s", s, buf.String())
				}
			}
		})
	}
}
