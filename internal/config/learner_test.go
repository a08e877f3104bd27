package config

import (
	"strings"
	"testing"
	"time"
)

func TestLearnerDefaults(t *testing.T) {
	c, err := Parse([]byte(minimal), env(map[string]string{"PAID_KEY": "k"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Learner, DefaultLearner(); got != want {
		t.Errorf("learner without a section = %+v, want the defaults %+v", got, want)
	}
	// Keys present replace defaults, including an explicit false or zero;
	// absent ones keep theirs.
	withSection := minimal + "learner:\n  enabled: false\n  schedule: \"@every 1s\"\n  tolerance: 0\n  dataset: labeled.jsonl\n"
	c, err = Parse([]byte(withSection), env(map[string]string{"PAID_KEY": "k"}))
	if err != nil {
		t.Fatal(err)
	}
	l := c.Learner
	if l.Enabled || l.Schedule != "@every 1s" || l.Tolerance != 0 || l.Dataset != "labeled.jsonl" {
		t.Errorf("learner = %+v, want enabled false, @every 1s, tolerance 0, the dataset", l)
	}
	if l.Window != 7*24*time.Hour || l.MinSamples != 30 || l.Target != 0 {
		t.Errorf("learner = %+v, want default window, min samples and target", l)
	}
}

func TestLearnerRejects(t *testing.T) {
	tests := []struct{ section, want string }{
		{"schedule: \"every night\"", "learner.schedule"},
		{"schedule: \"61 * * * *\"", "learner.schedule"},
		{"window: -1h", "learner.window"},
		{"min_samples: 0", "learner.min_samples"},
		{"target: 1.5", "learner.target"},
		{"target: -0.1", "learner.target"},
		{"tolerance: -0.1", "learner.tolerance"},
		{"timeout: 2h", "learner.timeout"},
		{"cadence: daily", "cadence"},
	}
	for _, tt := range tests {
		t.Run(tt.section, func(t *testing.T) {
			_, err := Parse([]byte(minimal+"learner:\n  "+tt.section+"\n"), env(map[string]string{"PAID_KEY": "k"}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("learner %s: err = %v, want one naming %s", tt.section, err, tt.want)
			}
		})
	}
}

func TestShippedConfigsHaveLearner(t *testing.T) {
	for _, path := range []string{"default.yaml", "../../config/demo.yaml"} {
		c, err := Load(path, env(map[string]string{"OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "k", "GROQ_API_KEY": "k"}))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !c.Learner.Enabled || c.Learner.Schedule == "" {
			t.Errorf("%s: learner = %+v, want enabled on a schedule", path, c.Learner)
		}
	}
}
