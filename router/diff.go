package router

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// TableDiff is what changes when routing moves from one table version to
// another: computed once here, printed by `switchyard table diff` and
// `learn`, shown by the admin page.
type TableDiff struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
	// Buckets holds every bucket of either table, by name.
	Buckets []BucketDiff `json:"buckets"`
	// Policy is the change in the local model and the per-prompt policy;
	// nil when neither version has either.
	Policy *PolicyDiff `json:"policy,omitempty"`
	// Why is the learner's gate's decision about To, in one sentence,
	// when From is the version it was judged against (To's parent).
	Why string `json:"why,omitempty"`
}

// Changed returns the buckets whose candidates differ.
func (d TableDiff) Changed() []BucketDiff {
	var out []BucketDiff
	for _, b := range d.Buckets {
		if b.Changed() {
			out = append(out, b)
		}
	}
	return out
}

// BucketDiff is the change in one bucket.
type BucketDiff struct {
	Bucket string   `json:"bucket"`
	Before []string `json:"before"`
	After  []string `json:"after"`
	// BeforeFrom and AfterFrom name the bucket whose candidates applied
	// when a table has no bucket of this name (a refined bucket falls
	// back to its complexity); empty when the bucket itself applied.
	BeforeFrom string   `json:"before_from,omitempty"`
	AfterFrom  string   `json:"after_from,omitempty"`
	Added      []string `json:"added,omitempty"`
	Removed    []string `json:"removed,omitempty"`
	// Reordered says models in both lists changed their relative order.
	Reordered bool `json:"reordered"`
	// FirstChanged says the first choice, where most traffic goes, changed.
	FirstChanged bool `json:"first_changed"`
	// Models is the evidence about every model of either list.
	Models []ModelEvidence `json:"models,omitempty"`
	// Prediction is present when the evidence covers both first choices.
	Prediction *Prediction `json:"prediction,omitempty"`
}

// Changed reports whether the candidate lists differ.
func (b BucketDiff) Changed() bool { return !slices.Equal(b.Before, b.After) }

// ModelEvidence is what each version's provenance says about a model in
// a bucket; nil where it says nothing.
type ModelEvidence struct {
	Model  string     `json:"model"`
	Before *ModelStat `json:"before,omitempty"`
	After  *ModelStat `json:"after,omitempty"`
}

// Prediction is the expected quality (success rate) and cost of a prompt
// in the bucket sent to each table's first choice. Escalation is left
// out: it happens on provider failures, not on wrong answers.
type Prediction struct {
	QualityBefore float64 `json:"quality_before"`
	QualityAfter  float64 `json:"quality_after"`
	// Costs are zero when CostKnown is false.
	CostBefore Micros `json:"cost_before_micros"`
	CostAfter  Micros `json:"cost_after_micros"`
	CostKnown  bool   `json:"cost_known"`
	// Samples is the smaller sample count behind the two estimates.
	Samples int `json:"samples"`
}

// Diff computes the change from version a to version b. Estimates come
// from b's provenance where it has them (the newer evidence), else a's.
func Diff(a, b Version) TableDiff {
	names := map[string]bool{}
	for k := range a.Table {
		names[k] = true
	}
	for k := range b.Table {
		names[k] = true
	}
	d := TableDiff{From: a.ID, To: b.ID, Buckets: make([]BucketDiff, 0, len(names))}
	for _, name := range sortedKeys(names) {
		bd := BucketDiff{Bucket: name}
		bd.Before, bd.BeforeFrom = effective(a.Table, name)
		bd.After, bd.AfterFrom = effective(b.Table, name)
		bd.Added = minus(bd.After, bd.Before)
		bd.Removed = minus(bd.Before, bd.After)
		bd.Reordered = !slices.Equal(common(bd.Before, bd.After), common(bd.After, bd.Before))
		bd.FirstChanged = first(bd.Before) != first(bd.After)
		bd.Models = evidence(name, union(bd.Before, bd.After), a.Provenance, b.Provenance)
		bd.Prediction = predict(name, first(bd.Before), first(bd.After), a.Provenance, b.Provenance)
		d.Buckets = append(d.Buckets, bd)
	}
	d.Policy = diffPolicy(a, b)
	if a.ID == b.ParentID {
		d.Why = b.Provenance.Gate
	}
	return d
}

// effective returns the candidates t applies to prompts of bucket, and
// the bucket they come from when it is not bucket itself.
func effective(t Table, bucket string) ([]string, string) {
	if m, ok := t[bucket]; ok {
		return m, ""
	}
	c, category, _ := strings.Cut(bucket, "/")
	m := t.Candidates(Analysis{Complexity: Complexity(c), Category: category})
	from := c
	if _, ok := t[c]; !ok {
		from = string(Complex)
	}
	return m, from
}

func evidence(bucket string, models []string, a, b Provenance) []ModelEvidence {
	out := make([]ModelEvidence, 0, len(models))
	for _, m := range models {
		ev := ModelEvidence{Model: m, Before: statOf(a, bucket, m), After: statOf(b, bucket, m)}
		if ev.Before != nil || ev.After != nil {
			out = append(out, ev)
		}
	}
	return out
}

func predict(bucket, before, after string, a, b Provenance) *Prediction {
	if before == "" || after == "" {
		return nil
	}
	sb, sa := latest(bucket, before, a, b), latest(bucket, after, a, b)
	if sb == nil || sa == nil || sb.Samples == 0 || sa.Samples == 0 {
		return nil
	}
	return &Prediction{
		QualityBefore: sb.SuccessRate,
		QualityAfter:  sa.SuccessRate,
		CostBefore:    sb.MeanCost,
		CostAfter:     sa.MeanCost,
		CostKnown:     sb.MeanCost > 0 && sa.MeanCost > 0,
		Samples:       min(sb.Samples, sa.Samples),
	}
}

// latest is b's evidence about model in bucket, else a's.
func latest(bucket, model string, a, b Provenance) *ModelStat {
	if s := statOf(b, bucket, model); s != nil {
		return s
	}
	return statOf(a, bucket, model)
}

func statOf(p Provenance, bucket, model string) *ModelStat {
	s, ok := p.Stats[bucket][model]
	if !ok {
		return nil
	}
	return &s
}

// minus returns the elements of xs not in ys, in xs's order.
func minus(xs, ys []string) []string {
	var out []string
	for _, x := range xs {
		if !slices.Contains(ys, x) {
			out = append(out, x)
		}
	}
	return out
}

// common returns the elements of xs also in ys, in xs's order.
func common(xs, ys []string) []string {
	var out []string
	for _, x := range xs {
		if slices.Contains(ys, x) {
			out = append(out, x)
		}
	}
	return out
}

func union(xs, ys []string) []string {
	return append(slices.Clone(xs), minus(ys, xs)...)
}

func first(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[0]
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// WriteText prints d for people: each changed bucket with its lists, the
// evidence and the predicted change, then the unchanged buckets.
func (d TableDiff) WriteText(w io.Writer) error {
	changed := d.Changed()
	var unchanged []string
	for _, b := range d.Buckets {
		if !b.Changed() {
			unchanged = append(unchanged, b.Bucket)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	policy := ""
	if d.Policy != nil && d.Policy.Changed() {
		policy = "; per-prompt policy changed"
	}
	fmt.Fprintf(tw, "routing table v%d -> v%d: %d of %d buckets changed%s\n", d.From, d.To, len(changed), len(d.Buckets), policy)
	if d.Why != "" {
		fmt.Fprintf(tw, "why: %s\n", d.Why)
	}
	for _, b := range changed {
		fmt.Fprintf(tw, "\n%s\n", b.Bucket)
		fmt.Fprintf(tw, "  before:\t%s%s\n", chain(b.Before), inherited(b.BeforeFrom))
		fmt.Fprintf(tw, "  after:\t%s%s\n", chain(b.After), inherited(b.AfterFrom))
		if len(b.Added) > 0 {
			fmt.Fprintf(tw, "  added:\t%s\n", strings.Join(b.Added, ", "))
		}
		if len(b.Removed) > 0 {
			fmt.Fprintf(tw, "  removed:\t%s\n", strings.Join(b.Removed, ", "))
		}
		if b.FirstChanged {
			fmt.Fprintf(tw, "  first choice:\t%s -> %s\n", orNone(first(b.Before)), orNone(first(b.After)))
		}
		if b.Reordered {
			fmt.Fprintf(tw, "  reordered:\tyes\n")
		}
		if len(b.Models) > 0 {
			// A line without tabs ends tabwriter's column block, so the
			// evidence table aligns on its own.
			fmt.Fprintf(tw, "  evidence:\n")
			fmt.Fprintf(tw, "    model\tsamples\tsuccess\tmean cost\n")
			for _, m := range b.Models {
				fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", m.Model,
					change(m.Before, m.After, func(s ModelStat) string { return fmt.Sprint(s.Samples) }),
					change(m.Before, m.After, func(s ModelStat) string { return fmt.Sprintf("%.3f", s.SuccessRate) }),
					change(m.Before, m.After, func(s ModelStat) string { return usd(s.MeanCost) }))
			}
		}
		if p := b.Prediction; p != nil {
			fmt.Fprintf(tw, "  predicted quality: %.3f -> %.3f (%+.3f, n=%d)\n", p.QualityBefore, p.QualityAfter, p.QualityAfter-p.QualityBefore, p.Samples)
			if p.CostKnown {
				fmt.Fprintf(tw, "  predicted cost:    %s -> %s a prompt (%+.0f%%)\n", usd(p.CostBefore), usd(p.CostAfter),
					100*(float64(p.CostAfter)-float64(p.CostBefore))/float64(p.CostBefore))
			}
		}
	}
	if len(unchanged) > 0 {
		fmt.Fprintf(tw, "\nunchanged: %s\n", strings.Join(unchanged, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	d.Policy.writeText(w)
	return nil
}

func chain(models []string) string {
	if len(models) == 0 {
		return "(none)"
	}
	return strings.Join(models, " > ")
}

func inherited(from string) string {
	if from == "" {
		return ""
	}
	return " (no such bucket; from " + from + ")"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// change renders a figure before and after, "-" where unknown.
func change(before, after *ModelStat, f func(ModelStat) string) string {
	b, a := "-", "-"
	if before != nil {
		b = f(*before)
	}
	if after != nil {
		a = f(*after)
	}
	if b == a {
		return a
	}
	return b + " -> " + a
}

func usd(m Micros) string {
	if m == 0 {
		return "-"
	}
	return fmt.Sprintf("$%.6f", m.USD())
}

// RollbackTarget returns the version a rollback from active goes back
// to: the nearest ancestor (by parent) that was active once, which is a
// retired version; candidates the gate never promoted are skipped. It
// returns a KindNotFound error when there is none.
func RollbackTarget(active Version, versions []Version) (Version, error) {
	byID := make(map[int64]Version, len(versions))
	for _, v := range versions {
		byID[v.ID] = v
	}
	seen := map[int64]bool{active.ID: true}
	for id := active.ParentID; id != 0 && !seen[id]; {
		seen[id] = true
		v, ok := byID[id]
		if !ok {
			break
		}
		if v.Status == StatusRetired {
			return v, nil
		}
		id = v.ParentID
	}
	return Version{}, Errorf(KindNotFound, "version", "version %d has no earlier active version to roll back to", active.ID)
}
