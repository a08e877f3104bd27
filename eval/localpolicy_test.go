package eval

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/switchyard/switchyard/router"
)

// The local policy eval replays is the service's: for the same
// predictions, each prompt goes to the first model router.Picker.Order
// gives, the order the service tries a prompt's candidates in.
func TestLocalPolicyIsPickerOrder(t *testing.T) {
	// Four predicted models, cheapest first; "x" is not in the dataset
	// and b and c cost the same.
	models := []string{"a", "b", "c"}
	costs := map[string]float64{"a": 1, "b": 2, "c": 2}
	mx := &Matrix{Models: models, PredModels: []string{"a", "x", "b", "c"}, PredCols: []int{0, -1, 1, 2}, Buckets: []router.Analysis{{}}}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 300
	for i := range n {
		for _, m := range models {
			mx.Quality = append(mx.Quality, float64(rng.IntN(2)))
			mx.Cost = append(mx.Cost, costs[m])
		}
		for range mx.PredModels {
			// Coarse values, so that ties and exact thresholds occur.
			mx.Pred = append(mx.Pred, float64(rng.IntN(11))/10)
		}
		mx.Bucket = append(mx.Bucket, 0)
		mx.Train = append(mx.Train, int32(i))
	}
	for _, rule := range []string{router.RuleGap, router.RuleTarget} {
		for _, param := range []float64{0, 0.1, 0.2, 0.5, 0.8, 1} {
			// The service's picker: the models it is configured with and
			// their prices, NaN for a model that cannot take the prompt.
			svc, err := router.NewPicker([]string{"a", "x", "b", "c"}, []float64{1, 1, 2, 2}, router.OperatingPoint{Rule: rule, Param: param})
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				r := newReplayer(mx, []int32{int32(i)}, []int{2, 1, 0})
				lr, err := newLocalRouter(r, rule)
				if err != nil {
					t.Fatal(err)
				}
				pr := lr.replay(PolicyLocal, param)
				pred := append([]float64(nil), mx.Pred[i*4:(i+1)*4]...)
				pred[1] = math.NaN()
				want := svc.Order(pred, nil)[0]
				if pr.CallsByModel[want] != 1 {
					t.Fatalf("%s %v, prompt %d with predictions %v: eval called %v, the service's first candidate is %s", rule, param, i, mx.Pred[i*4:(i+1)*4], pr.CallsByModel, want)
				}
			}
		}
	}
}
