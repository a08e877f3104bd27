package learner

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/textmodel"
	"github.com/switchyard/switchyard/router"
)

// LocalStore is where the local classifier's training text comes from
// and where its trained models go.
type LocalStore interface {
	// KeptPrompts returns the kept prompt text of the routed requests
	// served in [from, to), by request id, and the LLM classifier's
	// analysis of those prompts where one is cached, by request id.
	KeptPrompts(ctx context.Context, from, to time.Time) (texts map[string]string, analyses map[string]router.Analysis, err error)
	// PrunePrompts deletes the prompts last seen before before.
	PrunePrompts(ctx context.Context, before time.Time) (int64, error)
	// PutLocalModel stores a serialised model under its digest.
	PutLocalModel(ctx context.Context, digest string, data []byte) error
}

// LocalOptions configure the local classifier trained by each run.
type LocalOptions struct {
	// Store enables training; nil trains nothing, and a new version
	// keeps the active version's local model.
	Store LocalStore
	// MinSamples is the labelled prompts a run needs to train; default
	// DefaultLocalMinSamples.
	MinSamples int
	// Train tunes the fit; zero CategoryMin and TopicMin take
	// DefaultLocalLabelMin, a zero Seed 1.
	Train textmodel.Options
	// ImportanceWeights weights each logged score by the inverse
	// propensity of its request's first attempt (capped at the gate's
	// MaxWeight). Off by default: routing chooses a model from the
	// prompt alone, which the heads see too, so the unweighted fit is
	// not biased by it, and on the shared datasets the weights only added
	// variance (BENCHMARKS.md, "Learning from logged traffic").
	ImportanceWeights bool
	// NoPolicy trains the local model for the classifier tier only: no
	// per-prompt policy is chosen for it (see Job.learnPolicy).
	NoPolicy bool
}

// Local training defaults.
const (
	DefaultLocalMinSamples = 1000
	DefaultLocalLabelMin   = 30
	// localHoldout is the share of prompts kept out of training to
	// measure the model's log loss and calibration.
	localHoldout = 0.1
)

// Local training statuses.
const (
	LocalTrained = "trained"
	LocalTooFew  = "too_few"
	LocalFailed  = "failed"
)

// LocalReport is what a run did about the local classifier.
type LocalReport struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
	// Digest names the trained model; empty unless Status is trained.
	Digest string `json:"digest,omitempty"`
	// Prompts is the number of distinct labelled prompts; Train and
	// Held the split.
	Prompts int         `json:"prompts"`
	Train   int         `json:"train"`
	Held    int         `json:"held"`
	Heads   []LocalHead `json:"heads,omitempty"`
}

// LocalHead is one model head's training figures.
type LocalHead struct {
	Model   string `json:"model"`
	Samples int    `json:"samples"`
	// Held is the held-out prompts with a label for the head; LogLoss
	// and ECE are measured on them (NaN without any).
	Held    int     `json:"held"`
	LogLoss float64 `json:"log_loss"`
	ECE     float64 `json:"ece"`
}

// MarshalJSON writes a NaN figure (a head with no held-out label) as
// null: encoding/json refuses NaN, and one rarely explored model would
// otherwise fail `switchyard learn --json` (scripts/loop.sh died so).
func (h LocalHead) MarshalJSON() ([]byte, error) {
	num := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	return json.Marshal(struct {
		Model   string   `json:"model"`
		Samples int      `json:"samples"`
		Held    int      `json:"held"`
		LogLoss *float64 `json:"log_loss"`
		ECE     *float64 `json:"ece"`
	}{h.Model, h.Samples, h.Held, num(h.LogLoss), num(h.ECE)})
}

// localExamples builds one training example per distinct kept prompt:
// each model's source-weighted mean score over the prompt's usable
// observations, and, where the LLM classifier analysed the prompt, its
// category and complexity as labels. The analysis is not given as a
// feature: serving asks the local tier only when no LLM analysis is
// cached, so the model must predict without one.
//
// With maxWeight > 0 each score is weighted by the inverse propensity of
// the request's first attempt (capped at maxWeight): the service
// answered each prompt with the model routing chose, so a head learns
// mostly from the prompts routing sent its model, and the weights give
// it the whole prompt population instead (logged_report_test.go
// measures what that changes). Later attempts ran because an earlier
// one failed and weigh 1. With maxWeight 0 no weights are set.
func localExamples(obs []router.Observation, texts map[string]string, analyses map[string]router.Analysis, models router.Catalog, maxWeight float64) []textmodel.Example {
	type acc struct {
		ws, w, iw map[string]float64
		a         *router.Analysis
	}
	byText := map[string]*acc{}
	var order []string
	for _, o := range obs {
		text, ok := texts[o.RequestID]
		if !ok || !usable(o, models) {
			continue
		}
		e := byText[text]
		if e == nil {
			e = &acc{ws: map[string]float64{}, w: map[string]float64{}, iw: map[string]float64{}}
			byText[text] = e
			order = append(order, text)
		}
		e.ws[o.Model] += o.Weight * o.Score
		e.w[o.Model] += o.Weight
		imp := 1.0
		if o.Attempt == 0 {
			imp = importance(o.Propensity, maxWeight)
		}
		e.iw[o.Model] += o.Weight * imp
		if a, ok := analyses[o.RequestID]; ok && e.a == nil {
			e.a = &a
		}
	}
	out := make([]textmodel.Example, 0, len(order))
	for _, text := range order {
		e := byText[text]
		ex := textmodel.Example{Prompt: text, Scores: make(map[string]float64, len(e.w))}
		for m, w := range e.w {
			ex.Scores[m] = e.ws[m] / w
			if maxWeight > 0 {
				if ex.Weights == nil {
					ex.Weights = make(map[string]float64, len(e.w))
				}
				ex.Weights[m] = e.iw[m] / w
			}
		}
		if e.a != nil {
			ex.Category, ex.Topic = e.a.Category, string(e.a.Complexity)
		}
		out = append(out, ex)
	}
	return out
}

// localData is what a run trained its local model on: the kept prompts'
// text by request id and the examples built from them.
type localData struct {
	texts    map[string]string
	examples []textmodel.Example
	// unfitted holds the prompts whose outcomes the trained model's
	// weights never fitted: the learner's held-out share and Train's
	// calibration slice. The model predicts them as it will predict new
	// prompts, so a decision tuned on the logged prompts (the share a
	// gap routes) is tuned on these, without the overconfidence of
	// predictions on prompts the weights learned.
	unfitted map[string]bool
}

// trainLocal trains the local classifier on the window's kept prompts
// and stores it (unless dryRun). A nil model with a report says why none
// was trained; only a cancelled ctx is an error, since a model that
// fails to train must not stop the table's run.
func (j *Job) trainLocal(ctx context.Context, obs []router.Observation, from, to time.Time, dryRun bool) (*textmodel.Model, LocalReport, localData, error) {
	lo := j.opts.Local
	if !dryRun {
		if n, err := lo.Store.PrunePrompts(ctx, from); err != nil {
			j.opts.Logger.Warn("prune kept prompts", "err", err)
		} else if n > 0 {
			j.opts.Logger.Info("pruned kept prompts", "prompts", n, "before", from)
		}
	}
	texts, analyses, err := lo.Store.KeptPrompts(ctx, from, to)
	if err != nil {
		if ctx.Err() != nil {
			return nil, LocalReport{}, localData{}, err
		}
		return nil, LocalReport{Status: LocalFailed, Reason: err.Error()}, localData{}, nil
	}
	maxWeight := 0.0
	if lo.ImportanceWeights {
		maxWeight = j.opts.Gate.MaxWeight
	}
	examples := localExamples(obs, texts, analyses, j.opts.Models, maxWeight)
	rep := LocalReport{Prompts: len(examples)}
	if len(examples) < lo.MinSamples {
		rep.Status = LocalTooFew
		rep.Reason = fmt.Sprintf("%d labelled prompts in the window, %d needed", len(examples), lo.MinSamples)
		return nil, rep, localData{}, nil
	}
	train, held := splitExamples(examples)
	rep.Train, rep.Held = len(train), len(held)
	m, err := textmodel.Train(ctx, train, lo.Train)
	if err == nil {
		rep.Digest, err = m.Digest()
	}
	var data []byte
	if err == nil {
		data, err = m.MarshalBinary()
	}
	if err == nil && !dryRun {
		err = lo.Store.PutLocalModel(ctx, rep.Digest, data)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, LocalReport{}, localData{}, err
		}
		rep.Status, rep.Reason, rep.Digest = LocalFailed, err.Error(), ""
		return nil, rep, localData{}, nil
	}
	rep.Status = LocalTrained
	rep.Reason = fmt.Sprintf("trained on %d prompts, %d held out", len(train), len(held))
	rep.Heads = localHeads(m, held)
	return m, rep, localData{texts: texts, examples: examples, unfitted: unfittedPrompts(train, held, lo.Train)}, nil
}

// unfittedPrompts returns the prompts of held and of Train's calibration
// slice of train (opts as trained with), less any prompt that another
// example, fitted, repeats.
func unfittedPrompts(train, held []textmodel.Example, opts textmodel.Options) map[string]bool {
	out := make(map[string]bool, len(held))
	for _, ex := range held {
		out[ex.Prompt] = true
	}
	calib, err := textmodel.CalibrationSlice(len(train), opts)
	if err != nil {
		return out // Train refused these options too; nothing was fitted
	}
	inSlice := make([]bool, len(train))
	for _, i := range calib {
		inSlice[i] = true
	}
	fitted := make(map[string]bool, len(train))
	for i, ex := range train {
		if inSlice[i] {
			out[ex.Prompt] = true
		} else {
			fitted[ex.Prompt] = true
		}
	}
	for p := range fitted {
		delete(out, p)
	}
	return out
}

// splitExamples holds out a fixed share of prompts, chosen by a hash of
// the text so that a prompt stays on its side from run to run.
func splitExamples(examples []textmodel.Example) (train, held []textmodel.Example) {
	for _, ex := range examples {
		h := fnv.New64a()
		h.Write([]byte(ex.Prompt))
		if float64(h.Sum64()%1000) < localHoldout*1000 {
			held = append(held, ex)
		} else {
			train = append(train, ex)
		}
	}
	return train, held
}

// localHeads measures each model head on the held-out prompts.
func localHeads(m *textmodel.Model, held []textmodel.Example) []LocalHead {
	preds := make([][]float64, len(held))
	for i, ex := range held {
		preds[i] = m.Predict(ex.Prompt, nil)
	}
	var out []LocalHead
	for h, head := range m.Heads() {
		if head.Kind != textmodel.KindModel {
			continue
		}
		var p, y []float64
		for i, ex := range held {
			if s, ok := ex.Scores[head.Name]; ok {
				p, y = append(p, preds[i][h]), append(y, s)
			}
		}
		lh := LocalHead{Model: head.Name, Samples: head.Samples, Held: len(p), LogLoss: math.NaN(), ECE: math.NaN()}
		if len(p) > 0 {
			lh.LogLoss = logLoss(p, y)
			lh.ECE = textmodel.ECE(textmodel.Reliability(p, y, 10))
		}
		out = append(out, lh)
	}
	slices.SortFunc(out, func(a, b LocalHead) int { return strings.Compare(a.Model, b.Model) })
	return out
}

// logLoss is the mean cross-entropy of predictions p against soft
// labels y, with p clipped away from 0 and 1.
func logLoss(p, y []float64) float64 {
	const eps = 1e-6
	var sum float64
	for i := range p {
		q := min(max(p[i], eps), 1-eps)
		sum -= y[i]*math.Log(q) + (1-y[i])*math.Log(1-q)
	}
	return sum / float64(len(p))
}

// localProvenance records the local model of a candidate: the digest and
// the training figures of a model trained now, or, when none was, the
// active version's model, carried over so a promotion does not drop it.
func localProvenance(prov *router.Provenance, rep *LocalReport, active router.Version) {
	if rep == nil || rep.Status != LocalTrained {
		prov.LocalModel = active.Provenance.LocalModel
		return
	}
	prov.LocalModel = rep.Digest
	prov.Params["local_prompts"] = float64(rep.Prompts)
	prov.Params["local_held_out"] = float64(rep.Held)
	for _, h := range rep.Heads {
		prov.Params["local_samples:"+h.Model] = float64(h.Samples)
		if !math.IsNaN(h.LogLoss) {
			prov.Params["local_log_loss:"+h.Model] = h.LogLoss
			prov.Params["local_ece:"+h.Model] = h.ECE
		}
	}
}

// promoteLocal writes and promotes a version whose table is the active
// one's and whose local classifier is new. The gate replays tables, and
// the table is unchanged, so there is nothing for it to judge; the model
// itself was measured on held-out prompts (rep.Local).
func (j *Job) promoteLocal(ctx context.Context, rep Report, cand router.Version, dryRun bool) (Report, error) {
	rep.Status = RunPromoted
	rep.Reason = fmt.Sprintf("the fitted table is the active one (v%d); the local classifier was retrained", rep.Active.ID)
	cand.Note = "promoted: " + rep.Reason
	if dryRun {
		return rep, nil
	}
	return j.write(ctx, rep, rep.Active, cand, true, "retrained local classifier")
}
