package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTokenDataset writes a synthetic two-model dataset in which one
// token decides the outcome: the small model fails exactly the prompts
// containing "zorp", the big one answers everything. A heuristic cannot
// see the token; a model trained on outcomes can.
func writeTokenDataset(t *testing.T, n int) string {
	t.Helper()
	words := strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee")
	rng := rand.New(rand.NewPCG(7, 7))
	var b strings.Builder
	for i := range n {
		var w []string
		for range 6 + rng.IntN(6) {
			w = append(w, words[rng.IntN(len(words))])
		}
		small := 1
		if rng.IntN(5) < 2 {
			w[rng.IntN(len(w))] = "zorp"
			small = 0
		}
		label := ""
		if i%10 == 0 {
			label = fmt.Sprintf(`, "label": {"complexity": %q, "difficulty": %d}`, map[int]string{0: "complex", 1: "simple"}[small], 5-4*small)
		}
		fmt.Fprintf(&b, `{"id": "tok-%d", "prompt": %q, "source": "tok", "outcomes": {"small": {"score": %d, "prompt_tokens": 20, "completion_tokens": 10}, "big": {"score": 1, "prompt_tokens": 20, "completion_tokens": 10}}%s}`+"\n",
			i, strings.Join(w, " "), small, label)
	}
	path := filepath.Join(t.TempDir(), "token.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// localOut is the part of eval --json the local tests read.
type localOut struct {
	APGR  *float64 `json:"apgr"`
	NTest int      `json:"n_test"`
	Local *struct {
		APGR         *float64 `json:"apgr"`
		TrainPrompts int      `json:"train_prompts"`
		Curve        []any    `json:"curve"`
	} `json:"local"`
	Policies []struct {
		Name    string  `json:"name"`
		Quality float64 `json:"quality"`
	} `json:"policies"`
	Audit *struct {
		Prompts     int `json:"prompts"`
		Calibration []struct {
			Model string  `json:"model"`
			N     int     `json:"n"`
			ECE   float64 `json:"ece"`
			AUC   float64 `json:"auc"`
			Bins  []any   `json:"bins"`
		} `json:"calibration"`
		Agreement []struct {
			Other     string    `json:"other"`
			N         int       `json:"n"`
			Rate      float64   `json:"rate"`
			Confusion [3][3]int `json:"confusion"`
		} `json:"agreement"`
		Difficulty *struct {
			N                        int            `json:"n"`
			Levels                   map[string]int `json:"levels"`
			SpearmanLocalWeakFailure float64        `json:"spearman_local_weak_failure"`
			SpearmanHeuristic        float64        `json:"spearman_heuristic"`
			Groups                   []struct {
				Classifier     string  `json:"classifier"`
				Complexity     string  `json:"complexity"`
				N              int     `json:"n"`
				MeanDifficulty float64 `json:"mean_difficulty"`
			} `json:"groups"`
		} `json:"difficulty"`
	} `json:"audit"`
}

func runEvalJSON(t *testing.T, args ...string) localOut {
	t.Helper()
	out, stderr, err := runEval(t, nil, append([]string{"eval", "--prices", "testdata/eval/prices.json", "--json", "--no-store"}, args...))
	if err != nil {
		t.Fatalf("eval %v: %v\n%s", args, err, stderr)
	}
	var res localOut
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("eval %v: output is not JSON: %v", args, err)
	}
	return res
}

func TestEvalLocalBeatsHeuristicBuckets(t *testing.T) {
	data := writeTokenDataset(t, 3000)
	heur := runEvalJSON(t, "--dataset", data)
	local := runEvalJSON(t, "--dataset", data, "--classifier", "local", "--audit")
	if heur.APGR == nil || local.Local == nil || local.Local.APGR == nil || local.APGR == nil {
		t.Fatalf("missing APGR: heuristic %v, local %+v", heur.APGR, local.Local)
	}
	// The best any router can do here is 0.8: send the 40% of prompts
	// with the token to the big model, which recovers the whole gap at
	// 40% of calls (area 0.4*0.8 + 0.6 = 0.92; (0.92-0.6)/0.4).
	if got, base := *local.Local.APGR, *heur.APGR; got < 0.75 || got < base+0.2 {
		t.Errorf("local policy APGR = %.3f, heuristic buckets %.3f; want >= 0.75 and 0.2 above", got, base)
	}
	// The learned table on local buckets also sees the token.
	if got, base := *local.APGR, *heur.APGR; got < base+0.2 {
		t.Errorf("learned on local buckets APGR = %.3f, on heuristic buckets %.3f; want 0.2 above", got, base)
	}
	if local.Local.TrainPrompts == 0 || len(local.Local.Curve) < 2 {
		t.Errorf("local: %d training prompts, %d curve points; want some", local.Local.TrainPrompts, len(local.Local.Curve))
	}
	found := false
	for _, p := range local.Policies {
		found = found || p.Name == "local"
	}
	if !found {
		t.Error("policies lack local")
	}

	a := local.Audit
	if a == nil {
		t.Fatal("no audit with --audit")
	}
	if a.Prompts != local.NTest || len(a.Calibration) != 2 {
		t.Fatalf("audit: %d prompts, %d calibrations; want %d and 2", a.Prompts, len(a.Calibration), local.NTest)
	}
	for _, c := range a.Calibration {
		if c.N != local.NTest || len(c.Bins) != 10 || c.ECE < 0 || c.ECE > 0.2 {
			t.Errorf("calibration %s: n %d, %d bins, ECE %.3f; want n %d, 10 bins, ECE <= 0.2", c.Model, c.N, len(c.Bins), c.ECE, local.NTest)
		}
	}
	if a.Calibration[0].Model != "small" || a.Calibration[0].AUC < 0.95 {
		t.Errorf("calibration[0] = %s AUC %.3f; want small (cheapest first) with AUC >= 0.95", a.Calibration[0].Model, a.Calibration[0].AUC)
	}
	if len(a.Agreement) != 2 || a.Agreement[0].Other != "heuristic" || a.Agreement[1].Other != "label" {
		t.Fatalf("agreement = %+v; want heuristic then label", a.Agreement)
	}
	if g := a.Agreement[0]; g.N != local.NTest {
		t.Errorf("heuristic agreement over %d prompts, want %d", g.N, local.NTest)
	}
	// Labels say complex exactly where the small model fails, which the
	// local model predicts: it calls those complex and the rest simple.
	if g := a.Agreement[1]; g.N == 0 || g.Rate < 0.9 {
		t.Errorf("label agreement = %+v; want rate >= 0.9", g)
	}
	if d := a.Difficulty; d == nil || d.N == 0 || d.SpearmanLocalWeakFailure < 0.8 || len(d.Levels) != 2 {
		t.Errorf("difficulty = %+v; want levels 1 and 5 and Spearman >= 0.8", d)
	}
}

func TestEvalAuditWithoutOutcomes(t *testing.T) {
	train := writeTokenDataset(t, 3000)
	levels := "testdata/eval/levels.jsonl"
	res := runEvalJSON(t, "--dataset", levels, "--classifier", "local", "--audit", "--train-dataset", train)
	a := res.Audit
	if a == nil || a.Prompts != 4 || len(a.Calibration) != 0 {
		t.Fatalf("audit = %+v; want 4 prompts and no calibration", a)
	}
	d := a.Difficulty
	if d == nil || d.N != 4 || d.Levels["5"] != 1 || d.Levels["1"] != 1 {
		t.Fatalf("difficulty = %+v; want 4 prompts, levels 1, 2, 4, 5", d)
	}
	// The two "zorp" prompts are the hard ones (levels 4 and 5). Ranked
	// by the small model's predicted failure, the pairs {1, 2} and {4, 5}
	// are apart and only the order within each pair is left to the
	// model: both right gives rho 1, one swapped 1-6*2/60 = 0.8, both
	// swapped 1-6*4/60 = 0.6.
	if rho := d.SpearmanLocalWeakFailure; rho < 0.6-1e-9 {
		t.Errorf("Spearman = %.3f; want 0.6, 0.8 or 1", rho)
	}
	// The bucket rule calls the zorp prompts complex (mean level 4.5) and
	// the others simple (1.5).
	want := map[string]float64{"simple": 1.5, "complex": 4.5}
	for _, g := range d.Groups {
		if g.Classifier != "local" {
			continue
		}
		if w, ok := want[g.Complexity]; !ok || g.N != 2 || g.MeanDifficulty != w {
			t.Errorf("local group %+v; want simple 1.5 and complex 4.5, two prompts each", g)
		}
		delete(want, g.Complexity)
	}
	if len(want) > 0 {
		t.Errorf("local groups lack %v", want)
	}
	if len(a.Agreement) != 2 || a.Agreement[1].Other != "label" || a.Agreement[1].N != 2 || a.Agreement[1].Rate != 1 {
		t.Errorf("agreement = %+v; want the label agreeing on both labelled prompts", a.Agreement)
	}

	_, _, err := runEval(t, nil, []string{"eval", "--dataset", levels, "--no-store", "--classifier", "local", "--train-dataset", train})
	if err == nil || !strings.Contains(err.Error(), "no outcomes") {
		t.Errorf("without --audit: err = %v, want one about no outcomes", err)
	}
}

func TestEvalLocalFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"audit needs local", evalArgs("--audit", "--no-store"), "--audit needs --classifier local"},
		{"train dataset needs local", evalArgs("--train-dataset", "x", "--no-store"), "--train-dataset"},
		{"bad rule", evalArgs("--classifier", "local", "--local-rule", "best", "--no-store"), "--local-rule"},
		{"bad target", evalArgs("--classifier", "local", "--local-target", "0", "--no-store"), "--local-target"},
		{"local policy needs local", evalArgs("--policy", "local", "--no-store"), "needs the local classifier"},
		{"keep quality needs local", evalArgs("--keep-quality", "0.95", "--no-store"), "--keep-quality needs --classifier local"},
		{"keep quality range", evalArgs("--classifier", "local", "--keep-quality", "2", "--no-store"), "--keep-quality must be"},
		{"baseline needs keep quality", evalArgs("--classifier", "local", "--baseline", "big", "--no-store"), "--baseline needs --keep-quality"},
		{"keep quality on the training split", evalArgs("--classifier", "local", "--keep-quality", "0.9", "--train-dataset", "x", "--no-store"), "drop --train-dataset"},
		{"folds", evalArgs("--classifier", "local", "--keep-quality", "0.9", "--folds", "1", "--no-store"), "--folds"},
		{"match cost on", evalArgs("--classifier", "local", "--keep-quality", "0.9", "--match-cost-on", "test", "--no-store"), "--match-cost-on"},
		{"match cost on and keep param", evalArgs("--classifier", "local", "--keep-quality", "0.9", "--match-cost-on", "calibration", "--keep-param", "--no-store"), "drop one"},
		{"all sources need a source", evalArgs("--classifier", "local", "--train-all-sources", "--no-store"), "--train-all-sources needs"},
		{"all sources need local", evalArgs("--source", "tok", "--train-all-sources", "--no-store"), "--train-all-sources needs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runEval(t, nil, tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// testKeepQuality runs eval --keep-quality 0.95 with flag on data and
// checks the chosen point: the goal kept on test at under half the cost,
// the final model matched on matchedAtLeast to matchedAtMost prompts.
func testKeepQuality(t *testing.T, data, flag string, matchedAtLeast, matchedAtMost int) {
	t.Helper()
	out, stderr, err := runEval(t, nil, []string{"eval", "--prices", "testdata/eval/prices.json", "--json", "--no-store",
		"--dataset", data, "--classifier", "local", "--keep-quality", "0.95", flag})
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, stderr)
	}
	var res struct {
		NTrain int `json:"n_train"`
		Op     *struct {
			Rule                  string   `json:"rule"`
			KeepQuality           float64  `json:"keep_quality"`
			Baseline              string   `json:"baseline"`
			GoalMet               bool     `json:"goal_met"`
			PredictedQualityShare float64  `json:"predicted_quality_share"`
			PredictedCostShare    float64  `json:"predicted_cost_share"`
			Margin                float64  `json:"margin"`
			Samples               int      `json:"samples"`
			MatchPrompts          int      `json:"match_prompts"`
			TestQualityShare      float64  `json:"test_quality_share"`
			TestCostShare         float64  `json:"test_cost_share"`
			TestMeetsGoal         bool     `json:"test_meets_goal"`
			BestTestCostShare     *float64 `json:"best_test_cost_share"`
		} `json:"operating_point"`
		Policies []struct {
			Name               string  `json:"name"`
			QualityVsStrongest float64 `json:"quality_vs_strongest"`
			SavingsVsStrongest float64 `json:"savings_vs_strongest"`
		} `json:"policies"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	op := res.Op
	if op == nil {
		t.Fatal("no operating_point with --keep-quality")
	}
	// The right point sends the 40% of prompts with the token to big and
	// the rest to small: all of big's quality at about 41% of its cost.
	if !op.GoalMet || op.Baseline != "big" || op.Rule != "gap" || op.KeepQuality != 0.95 || op.Samples < res.NTrain*9/10 {
		t.Errorf("operating point %+v: want the goal met against big on the %d training prompts", op, res.NTrain)
	}
	if op.PredictedQualityShare-op.Margin < 0.95 || op.PredictedCostShare > 0.5 {
		t.Errorf("predicted quality %.3f (margin %.3f), cost %.3f: want the goal kept under half the cost", op.PredictedQualityShare, op.Margin, op.PredictedCostShare)
	}
	if !op.TestMeetsGoal || op.TestQualityShare < 0.95 || op.TestCostShare > 0.5 || op.BestTestCostShare == nil {
		t.Errorf("test quality %.3f, cost %.3f: want >= 0.95 at <= 0.5 (point %+v)", op.TestQualityShare, op.TestCostShare, op)
	}
	if op.MatchPrompts < matchedAtLeast || op.MatchPrompts > matchedAtMost {
		t.Errorf("matched on %d training prompts, want %d to %d", op.MatchPrompts, matchedAtLeast, matchedAtMost)
	}
	// The learned policy's figures are the chosen point's.
	for _, p := range res.Policies {
		if p.Name == "learned" && (math.Abs(p.QualityVsStrongest-op.TestQualityShare) > 1e-9 || math.Abs(1-p.SavingsVsStrongest-op.TestCostShare) > 1e-9) {
			t.Errorf("learned %+v is not the chosen point's test figures %+v", p, op)
		}
	}

}

func TestEvalKeepQuality(t *testing.T) {
	data := writeTokenDataset(t, 3000)
	// Here the final model is far surer on its own training prompts than
	// on new ones, so matching the chosen cost on every training prompt
	// (--match-cost-on training) routes new prompts too cheaply: test
	// quality 0.92. --keep-param and matching on the calibration slice
	// (the default), which the model predicts as new prompts, both keep
	// the goal. See BENCHMARKS.md.
	for _, mode := range []struct {
		flag           string
		matchedAtLeast int // training prompts matched on, at least
		matchedAtMost  int
	}{
		{"--keep-param", 0, 0},
		{"--match-cost-on=calibration", 100, 200}, // a tenth of ~1,500
		{"--folds=5", 100, 200},                   // the default is the calibration slice
	} {
		t.Run(mode.flag, func(t *testing.T) {
			testKeepQuality(t, data, mode.flag, mode.matchedAtLeast, mode.matchedAtMost)
		})
	}

	// A goal no point keeps: learned keeps the baseline.
	unmet := runEvalJSON(t, "--dataset", data, "--classifier", "local", "--keep-quality", "1.2")
	q := map[string]float64{}
	for _, p := range unmet.Policies {
		q[p.Name] = p.Quality
	}
	if q["learned"] != q["always:big"] || q["learned"] == q["always:small"] {
		t.Errorf("unmet goal: learned quality %v; want always:big's %v", q["learned"], q["always:big"])
	}
}

func TestEvalTrainAllSources(t *testing.T) {
	// Half the token dataset's prompts come from another source: with
	// --source tok the local model trains on tok's training split, with
	// --train-all-sources on both sources' training splits; either way
	// only tok's test split is scored.
	raw, err := os.ReadFile(writeTokenDataset(t, 2000))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	for i := range lines {
		if i%2 == 1 {
			lines[i] = strings.Replace(lines[i], `"source": "tok"`, `"source": "other"`, 1)
		}
	}
	data := filepath.Join(t.TempDir(), "two.jsonl")
	if err := os.WriteFile(data, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--dataset", data, "--source", "tok", "--classifier", "local", "--local-rule", "gap"}
	own := runEvalJSON(t, args...)
	all := runEvalJSON(t, append(args, "--train-all-sources")...)
	if own.Local == nil || all.Local == nil {
		t.Fatal("no local result")
	}
	if own.NTest != all.NTest || own.NTest < 400 || own.NTest > 600 {
		t.Errorf("scored %d and %d prompts; want tok's test split, about 500, both times", own.NTest, all.NTest)
	}
	if got, want := all.Local.TrainPrompts, 2*own.Local.TrainPrompts; got < want*9/10 || got > want*11/10 {
		t.Errorf("trained on %d prompts with --train-all-sources, %d without; want about twice", got, own.Local.TrainPrompts)
	}
}
