package config

import (
	"strings"
	"testing"
)

func TestLocalAndKeepPrompts(t *testing.T) {
	keys := env(map[string]string{"PAID_KEY": "k"})
	tests := []struct {
		name    string
		extra   string
		want    Local
		keep    bool
		wantErr string
	}{
		{"defaults", "", DefaultLocal(), false, ""},
		{"partial section keeps the other defaults", "classifier:\n  local:\n    threshold: 0.9\nlearner:\n  keep_prompts: true\n",
			Local{Enabled: true, Threshold: 0.9, MinSamples: 1000, LabelShare: 0.05}, true, ""},
		{"disabled", "classifier:\n  local:\n    enabled: false\n", Local{Threshold: 0.8, MinSamples: 1000, LabelShare: 0.05}, false, ""},
		{"threshold above 1", "classifier:\n  local:\n    threshold: 1.5\n", Local{}, false, "classifier.local.threshold"},
		{"label share above 1", "classifier:\n  local:\n    label_share: 2\n", Local{}, false, "classifier.local.label_share"},
		{"threshold zero", "classifier:\n  local:\n    threshold: 0\n", Local{}, false, "classifier.local.threshold"},
		{"min samples zero", "classifier:\n  local:\n    min_samples: 0\n", Local{}, false, "classifier.local.min_samples"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(minimal+tt.extra), keys)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if c.Classifier.Local != tt.want || c.Learner.KeepPrompts != tt.keep {
				t.Errorf("local = %+v, keep_prompts %v; want %+v, %v", c.Classifier.Local, c.Learner.KeepPrompts, tt.want, tt.keep)
			}
		})
	}
}

func TestShippedKeepPrompts(t *testing.T) {
	def, err := Default(env(map[string]string{"OPENAI_API_KEY": "a", "ANTHROPIC_API_KEY": "b", "GROQ_API_KEY": "c"}))
	if err != nil {
		t.Fatal(err)
	}
	demo, err := Load("../../config/demo.yaml", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if def.Learner.KeepPrompts || !demo.Learner.KeepPrompts {
		t.Errorf("keep_prompts: default %v, demo %v; want off by default, on in the demo", def.Learner.KeepPrompts, demo.Learner.KeepPrompts)
	}
	if def.Classifier.Local != DefaultLocal() || demo.Classifier.Local != DefaultLocal() {
		t.Errorf("local: default %+v, demo %+v; want %+v", def.Classifier.Local, demo.Classifier.Local, DefaultLocal())
	}
}
