package eval

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/switchyard/switchyard/router"
)

// WriteText prints a result as a terminal table.
func WriteText(w io.Writer, res *Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "dataset %s: %d train / %d test prompts (split by %s)", res.Dataset, res.NTrain, res.NTest, res.Split)
	if res.Classifier != "" {
		fmt.Fprintf(&b, ", classifier %s", res.Classifier)
	}
	if len(res.Policies) == 0 {
		// An audit of a dataset without outcomes: nothing was replayed.
		b.WriteString("\n")
		writeAuditText(&b, res.Audit)
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, ", target %.2f\n", res.Target)
	fmt.Fprintf(&b, "strongest %s, weak %s; static table %s\n\n", res.Strongest, res.Weak, res.StaticSource)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\tn\tquality\tvs strongest\tcost $\t$/1k\tsavings\tstrong\t")
	for _, p := range res.Policies {
		fmt.Fprintf(tw, "%s\t%d\t%.4f\t%.1f%%\t%.4f\t%.4f\t%+.1f%%\t%.1f%%\t\n",
			p.Name, p.N, p.Quality, 100*p.QualityVsStrongest, p.CostUSD, p.CostPer1k,
			100*zeroSmall(p.SavingsVsStrongest), 100*p.StrongShare)
	}
	tw.Flush()
	b.WriteString("\ncalls by model:\n")
	for _, p := range res.Policies {
		fmt.Fprintf(&b, "  %-28s %s\n", p.Name, callShares(p))
	}

	fmt.Fprintf(&b, "\nlearned curve: %d distinct tables as the target moves\n", len(res.Curve))
	for _, c := range res.Curve {
		fmt.Fprintf(&b, "  target %.3f  quality %.4f  $/1k %.4f  strong %5.1f%%\n", c.Target, c.Quality, c.CostPer1k, 100*c.StrongShare)
	}
	fmt.Fprintf(&b, "\nAPGR %s (axis %s)  CPT(50%%) %s  CPT(80%%) %s\n", num(res.APGR, 3, false), res.APGRAxis, num(res.CPT50, 1, true), num(res.CPT80, 1, true))
	fmt.Fprintf(&b, "AIQ %s (random mix of weak and strongest: %s)\n", num(res.AIQ, 4, false), num(res.RandomAIQ, 4, false))
	b.WriteString("\nlearned table:\n")
	writeTable(&b, res.LearnedTable)
	writeLocalText(&b, res.Local)
	writePointText(&b, res.OperatingPoint)
	writeCascadeText(&b, res.Cascade)
	writeAuditText(&b, res.Audit)
	_, err := io.WriteString(w, b.String())
	return err
}

// callShares lists a policy's calls per model, most used first.
func callShares(p PolicyResult) string {
	type mc struct {
		m string
		c int
	}
	var list []mc
	for m, c := range p.CallsByModel {
		list = append(list, mc{m, c})
	}
	slices.SortFunc(list, func(a, b mc) int {
		if a.c != b.c {
			return cmp.Compare(b.c, a.c)
		}
		return cmp.Compare(a.m, b.m)
	})
	var parts []string
	for _, x := range list {
		parts = append(parts, fmt.Sprintf("%s %.1f%%", x.m, 100*float64(x.c)/float64(p.N)))
	}
	return strings.Join(parts, ", ")
}

// num formats an optional figure, as a percentage when pct.
func num(v *float64, prec int, pct bool) string {
	if v == nil {
		return "n/a"
	}
	if pct {
		return fmt.Sprintf("%.*f%%", prec, 100**v)
	}
	return fmt.Sprintf("%.*f", prec, *v)
}

// writeTable prints a routing table with complexities first.
func writeTable(b *strings.Builder, t router.Table) {
	for _, bucket := range tableBuckets(t) {
		fmt.Fprintf(b, "  %-24s %s\n", bucket, strings.Join(t[bucket], " > "))
	}
}

// tableBuckets orders buckets by complexity, then refined ones by name.
func tableBuckets(t router.Table) []string {
	rank := map[string]int{router.Simple: 0, router.Moderate: 1, router.Complex: 2}
	var out []string
	for k := range t {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b string) int {
		ca, _, _ := strings.Cut(a, "/")
		cb, _, _ := strings.Cut(b, "/")
		if c := cmp.Compare(rank[ca], rank[cb]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return out
}

// zeroSmall rounds float noise (a policy that is the strongest model, its
// costs summed in another order) to zero, so it does not print as -0.0%.
func zeroSmall(v float64) float64 {
	if v > -5e-7 && v < 5e-7 {
		return 0
	}
	return v
}
