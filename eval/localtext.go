package eval

import (
	"fmt"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/router"
)

// writeLocalText prints the local policy's curve summary, if any.
func writeLocalText(b *strings.Builder, l *LocalResult) {
	if l == nil {
		return
	}
	fmt.Fprintf(b, "\nlocal model: %d training prompts", l.TrainPrompts)
	if l.TrainDataset != "" {
		fmt.Fprintf(b, " from %s", l.TrainDataset)
	}
	fmt.Fprintf(b, "; models cheapest to strongest: %s\n", strings.Join(l.Models, ", "))
	fmt.Fprintf(b, "local buckets on the test split: simple %d, moderate %d, complex %d\n",
		l.Buckets[router.Simple], l.Buckets[router.Moderate], l.Buckets[router.Complex])
	fmt.Fprintf(b, "local policy (rule %s, %s %.3f): curve of %d points\n", l.Rule, paramName(l.Rule), l.Param, len(l.Curve))
	for _, c := range thin(l.Curve, 12) {
		fmt.Fprintf(b, "  %s %.3f  quality %.4f  $/1k %.4f  strong %5.1f%%\n", paramName(l.Rule), c.Target, c.Quality, c.CostPer1k, 100*c.StrongShare)
	}
	fmt.Fprintf(b, "local APGR %s  CPT(50%%) %s  CPT(80%%) %s  AIQ %s (oracle %s)\n",
		num(l.APGR, 3, false), num(l.CPT50, 1, true), num(l.CPT80, 1, true), num(l.AIQ, 4, false), num(l.OracleAIQ, 4, false))
	fmt.Fprintf(b, "cost at 95%% of the strongest's quality, share of its cost: local %s, learned %s\n",
		num(l.CostShareAt95, 1, true), num(l.LearnedCostShareAt95, 1, true))
}

func paramName(rule string) string {
	if rule == LocalRuleGap {
		return "gap"
	}
	return "target"
}

// thin keeps at most n evenly spaced points of a curve, ends included.
func thin(c []CurvePoint, n int) []CurvePoint {
	if len(c) <= n {
		return c
	}
	out := make([]CurvePoint, 0, n)
	for k := range n {
		out = append(out, c[k*(len(c)-1)/(n-1)])
	}
	return slices.Compact(out)
}

// writeAuditText prints the classifier audit, if any.
func writeAuditText(b *strings.Builder, a *Audit) {
	if a == nil {
		return
	}
	fmt.Fprintf(b, "\naudit of the local classifier (%d prompts)\n", a.Prompts)
	for _, c := range a.Calibration {
		fmt.Fprintf(b, "  calibration %s (n %d): ECE %.3f  AUC %.3f  mean predicted %.3f, observed %.3f\n    ",
			c.Model, c.N, c.ECE, c.AUC, c.MeanPredicted, c.MeanObserved)
		for _, bin := range c.Bins {
			if bin.Count > 0 {
				fmt.Fprintf(b, " %.2f->%.2f(%d)", bin.Predicted, bin.Observed, bin.Count)
			}
		}
		b.WriteString("\n")
	}
	for _, g := range a.Agreement {
		fmt.Fprintf(b, "  agreement with %s: %.1f%% of %d prompts; rows local, columns %s (simple, moderate, complex):\n",
			g.Other, 100*g.Rate, g.N, g.Other)
		for r, c := range router.Complexities {
			fmt.Fprintf(b, "    %-9s %6d %6d %6d\n", c, g.Confusion[r][0], g.Confusion[r][1], g.Confusion[r][2])
		}
	}
	if d := a.Difficulty; d != nil {
		fmt.Fprintf(b, "  difficulty labels (%d prompts): Spearman with 1-p(cheapest) %.3f, local complexity %.3f, heuristic complexity %.3f\n",
			d.N, d.SpearmanLocalWeakFailure, d.SpearmanLocalComplexity, d.SpearmanHeuristic)
		for _, g := range d.Groups {
			fmt.Fprintf(b, "    %-9s %-8s n %5d  mean difficulty %.2f\n", g.Classifier, g.Complexity, g.N, g.MeanDifficulty)
		}
	}
}
