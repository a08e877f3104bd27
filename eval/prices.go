package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/switchyard/switchyard/router"
)

// ReadPrices reads a price file: a JSON object mapping each model name to
// {"input_per_mtok": USD, "output_per_mtok": USD}. Keys starting with "_"
// are comments. Both prices are required: a model must never look free
// because a field is missing.
func ReadPrices(r io.Reader) (router.Catalog, error) {
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("decoding price file: %w", err)
	}
	cat := router.Catalog{}
	for name, v := range raw {
		if strings.HasPrefix(name, "_") {
			continue
		}
		var p struct {
			In  *float64 `json:"input_per_mtok"`
			Out *float64 `json:"output_per_mtok"`
		}
		if err := json.Unmarshal(v, &p); err != nil {
			return nil, fmt.Errorf("price of %q: %w", name, err)
		}
		if p.In == nil || p.Out == nil {
			return nil, fmt.Errorf("price of %q: want input_per_mtok and output_per_mtok", name)
		}
		if *p.In < 0 || *p.Out < 0 {
			return nil, fmt.Errorf("price of %q: must not be negative", name)
		}
		cat[name] = router.Model{Name: name, InputPerMTok: *p.In, OutputPerMTok: *p.Out}
	}
	return cat, nil
}
