package config

import (
	"strings"
	"testing"
)

func TestKeepQuality(t *testing.T) {
	tests := []struct {
		name       string
		routing    string // lines added to minimal's routing section
		learner    string
		keep       float64
		target     float64
		wantErr    string
		wantBucket string
	}{
		{name: "default", keep: DefaultKeepQuality},
		{name: "set", routing: "  keep_quality: 0.9\n", keep: 0.9},
		{name: "set with a refined bucket", routing: "  keep_quality: 1\n  complex/math: [big, small]\n", keep: 1, wantBucket: "complex/math"},
		{name: "absolute target beside it", learner: "learner:\n  target: 0.8\n", keep: DefaultKeepQuality, target: 0.8},
		{name: "zero", routing: "  keep_quality: 0\n", wantErr: "routing.keep_quality"},
		{name: "above one", routing: "  keep_quality: 1.2\n", wantErr: "routing.keep_quality"},
		{name: "not a number", routing: "  keep_quality: most\n", wantErr: "routing.keep_quality"},
		{name: "bucket not a list", routing: "  complex/math: big\n", wantErr: "routing.complex/math"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := strings.Replace(minimal, "routing:\n", "routing:\n"+tt.routing, 1) + tt.learner
			c, err := Parse([]byte(y), env(map[string]string{"PAID_KEY": "k"}))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Routing.KeepQuality != tt.keep || c.Learner.Target != tt.target {
				t.Errorf("keep_quality %v, target %v; want %v, %v", c.Routing.KeepQuality, c.Learner.Target, tt.keep, tt.target)
			}
			tab := c.Table()
			if _, ok := tab["keep_quality"]; ok {
				t.Errorf("keep_quality read as a bucket: %v", tab)
			}
			if len(tab["simple"]) != 2 || len(tab["complex"]) != 1 {
				t.Errorf("table = %v, want minimal's buckets", tab)
			}
			if tt.wantBucket != "" && len(tab[tt.wantBucket]) == 0 {
				t.Errorf("table = %v, want bucket %s", tab, tt.wantBucket)
			}
		})
	}
}

func TestShippedConfigsKeepQuality(t *testing.T) {
	for _, path := range []string{"default.yaml", "../../config/demo.yaml"} {
		c, err := Load(path, env(map[string]string{"OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "k", "GROQ_API_KEY": "k"}))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		// The relative goal is the default: a shipped file must not set
		// the absolute target that would replace it.
		if c.Routing.KeepQuality != 0.95 || c.Learner.Target != 0 {
			t.Errorf("%s: keep_quality %v, target %v; want 0.95 and no absolute target", path, c.Routing.KeepQuality, c.Learner.Target)
		}
	}
}
