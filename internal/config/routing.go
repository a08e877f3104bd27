package config

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// DefaultKeepQuality is routing.keep_quality's default: keep at least
// 95% of baseline_model's quality and pay as little as possible.
const DefaultKeepQuality = 0.95

// Routing is the routing section: the static table (complexity ->
// models, cheapest first), which seeds routing-table version 1, and the
// quality goal the learner fits toward.
//
// In YAML the table's buckets and keep_quality share one mapping:
//
//	routing:
//	  keep_quality: 0.95
//	  simple: [small, big]
type Routing struct {
	// Table is the static table, bucket -> models.
	Table map[string][]string
	// KeepQuality is the relative quality goal: keep at least this share
	// of baseline_model's quality (per bucket, per prompt) at the least
	// cost. It is the default goal; learner.target, when set, replaces
	// it with an absolute one.
	KeepQuality float64
}

// UnmarshalYAML reads the section's one mapping: keep_quality is the
// goal, every other key a bucket of the table.
func (r *Routing) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("routing: line %d: want a mapping of buckets to models", n.Line)
	}
	r.Table = make(map[string][]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "keep_quality" {
			if err := v.Decode(&r.KeepQuality); err != nil {
				return fmt.Errorf("routing.keep_quality: line %d: want a number: %w", v.Line, err)
			}
			continue
		}
		if _, dup := r.Table[k.Value]; dup {
			return fmt.Errorf("routing.%s: line %d: bucket listed twice", k.Value, k.Line)
		}
		var models []string
		if err := v.Decode(&models); err != nil {
			return fmt.Errorf("routing.%s: line %d: want a list of models: %w", k.Value, v.Line, err)
		}
		r.Table[k.Value] = models
	}
	return nil
}
