package eval

import (
	"fmt"

	"github.com/switchyard/switchyard/router"
)

// LocalChoices returns, for each test prompt (in mx.Test's order), the
// model the local policy at point sends it to first, exactly as the
// replay scores it; "" for a prompt with no prediction. It is what the
// service, running the same local model and point with router.Picker,
// must choose too (cmd/switchyard's parity test holds them together).
func (mx *Matrix) LocalChoices(point router.OperatingPoint) ([]string, error) {
	if mx.Pred == nil {
		return nil, fmt.Errorf("local choices: the matrix has no predictions")
	}
	p, err := localPicker(mx, point.Rule)
	if err != nil {
		return nil, err
	}
	p = p.WithParam(point.Param)
	K := len(mx.PredModels)
	pred := mx.predRows(mx.Pred, mx.Test)
	out := make([]string, len(mx.Test))
	for n := range mx.Test {
		if k := p.Choose(pred[n*K : (n+1)*K]); k >= 0 {
			out[n] = mx.PredModels[k]
		}
	}
	return out, nil
}
