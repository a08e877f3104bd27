package textmodel

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

// The serialised form, version 1:
//
//	"SYTM"                 magic
//	uint16 LE              format version (1)
//	uvarint n, n bytes     JSON header: features, params, samples, heads
//	uvarint count          features with a non-zero weight in any head
//	count times:
//	  uvarint              feature index minus the previous one (first:
//	                       the index itself), so indices ascend
//	  heads x float32 LE   the feature's weight in each head, head order
//
// Version 2, written only for a model with topic heads (so that a model
// without them keeps its version 1 bytes and digest), has the same
// layout for the heads before the topic heads, followed by a second
// table of the same form for the topic heads over the hashed buckets.
//
// Only features with a non-zero weight are stored, in ascending order, and
// the header's JSON has a fixed field order, so one model always encodes
// to the same bytes and Digest can name it in a table's provenance.
const (
	magic         = "SYTM"
	formatVersion = 2
	maxHeads      = 1024
	maxHeaderLen  = 1 << 20
)

// ErrFormat is returned by UnmarshalBinary for data that is not a model
// this version can read.
var ErrFormat = errors.New("not a textmodel model")

// header is the JSON part of the serialised form.
type header struct {
	Features FeatureConfig `json:"features"`
	Params   Params        `json:"params"`
	Samples  int           `json:"samples"`
	Heads    []Head        `json:"heads"`
}

// MarshalBinary encodes the model in the versioned format above.
func (m *Model) MarshalBinary() ([]byte, error) {
	hdr, err := json.Marshal(header{Features: m.features, Params: m.params, Samples: m.samples, Heads: m.heads})
	if err != nil {
		return nil, fmt.Errorf("encoding model header: %w", err)
	}
	version := uint16(1)
	if len(m.wt) > 0 {
		version = 2
	}
	buf := make([]byte, 0, len(magic)+2+len(hdr)+binary.MaxVarintLen64)
	buf = append(buf, magic...)
	buf = binary.LittleEndian.AppendUint16(buf, version)
	buf = binary.AppendUvarint(buf, uint64(len(hdr)))
	buf = append(buf, hdr...)
	buf = appendWeights(buf, m.w, m.nFull)
	if version == 2 {
		buf = appendWeights(buf, m.wt, len(m.heads)-m.nFull)
	}
	return buf, nil
}

// appendWeights appends the weight table w of n heads interleaved by
// feature: the count of features with a non-zero weight, then each such
// feature's index delta and weights.
func appendWeights(buf []byte, w []float32, n int) []byte {
	if n == 0 {
		return binary.AppendUvarint(buf, 0)
	}
	var nonzero int
	for i := 0; i < len(w); i += n {
		if !allZero(w[i : i+n]) {
			nonzero++
		}
	}
	buf = slices.Grow(buf, binary.MaxVarintLen64+nonzero*(3+4*n))
	buf = binary.AppendUvarint(buf, uint64(nonzero))
	prev := 0
	for i := 0; i < len(w)/n; i++ {
		ws := w[i*n : i*n+n]
		if allZero(ws) {
			continue
		}
		buf = binary.AppendUvarint(buf, uint64(i-prev))
		prev = i
		for _, x := range ws {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
		}
	}
	return buf
}

// UnmarshalBinary decodes a model encoded by MarshalBinary. It returns an
// error wrapping ErrFormat for anything else, including a newer format
// version.
func UnmarshalBinary(data []byte) (*Model, error) {
	r := bytes.NewReader(data)
	bad := func(what string) error { return fmt.Errorf("decoding model: %s: %w", what, ErrFormat) }
	var head [len(magic) + 2]byte
	if _, err := r.Read(head[:]); err != nil || string(head[:len(magic)]) != magic {
		return nil, bad("bad magic")
	}
	version := binary.LittleEndian.Uint16(head[len(magic):])
	if version < 1 || version > formatVersion {
		return nil, bad(fmt.Sprintf("format version %d, want 1 to %d", version, formatVersion))
	}
	hlen, err := binary.ReadUvarint(r)
	if err != nil || hlen > maxHeaderLen || hlen > uint64(r.Len()) {
		return nil, bad("header length")
	}
	hdrBytes := make([]byte, hlen)
	_, _ = r.Read(hdrBytes)
	var hdr header
	if err := json.Unmarshal(hdrBytes, &hdr); err != nil {
		return nil, fmt.Errorf("decoding model header: %w: %w", err, ErrFormat)
	}
	if err := hdr.Features.Validate(); err != nil {
		return nil, fmt.Errorf("decoding model: %w: %w", err, ErrFormat)
	}
	n := len(hdr.Heads)
	if n == 0 || n > maxHeads {
		return nil, bad(fmt.Sprintf("%d heads", n))
	}
	topics := 0
	for k, h := range hdr.Heads {
		switch {
		case h.Kind == KindTopic:
			topics++
		case h.Kind != KindModel && h.Kind != KindCategory:
			return nil, bad(fmt.Sprintf("head %q: kind %q", h.Name, h.Kind))
		case topics > 0:
			return nil, bad(fmt.Sprintf("head %d %q: after the topic heads", k, h.Name))
		}
	}
	for _, h := range hdr.Heads {
		if len(h.TopicRates) != 0 && len(h.TopicRates) != topics {
			return nil, bad(fmt.Sprintf("head %q: %d topic rates for %d topics", h.Name, len(h.TopicRates), topics))
		}
		if !slices.IsSortedFunc(h.Iso, func(a, b Knot) int { return cmp.Compare(a.X, b.X) }) {
			return nil, bad(fmt.Sprintf("head %q: isotonic knots out of order", h.Name))
		}
	}
	if (topics > 0) != (version == 2) || topics == n {
		return nil, bad(fmt.Sprintf("format version %d with %d of %d heads topic heads", version, topics, n))
	}
	m := newModel(hdr.Features, hdr.Params, hdr.Samples, hdr.Heads)
	if err := readWeights(r, m.w, m.nFull, hdr.Features.Dim()); err != nil {
		return nil, bad(err.Error())
	}
	if version == 2 {
		if err := readWeights(r, m.wt, topics, 1<<hdr.Features.topicBits()); err != nil {
			return nil, bad("topic " + err.Error())
		}
	}
	if r.Len() != 0 {
		return nil, bad("trailing bytes")
	}
	return m, nil
}

// readWeights reads a table written by appendWeights into w, of n heads
// over dim features.
func readWeights(r *bytes.Reader, w []float32, n, dim int) error {
	count, err := binary.ReadUvarint(r)
	if err != nil || count > uint64(dim) {
		return errors.New("weight count")
	}
	idx := 0
	for k := uint64(0); k < count; k++ {
		d, err := binary.ReadUvarint(r)
		if err != nil || (k > 0 && d == 0) || d >= uint64(dim) || idx+int(d) >= dim {
			return errors.New("weight index")
		}
		idx += int(d)
		if r.Len() < 4*n {
			return errors.New("truncated weights")
		}
		for h := range n {
			var b [4]byte
			_, _ = r.Read(b[:])
			w[idx*n+h] = math.Float32frombits(binary.LittleEndian.Uint32(b[:]))
		}
	}
	return nil
}

// Digest returns the hex SHA-256 of the model's serialised form, a short
// name for it in a table version's provenance.
func (m *Model) Digest() (string, error) {
	b, err := m.MarshalBinary()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func allZero(ws []float32) bool {
	for _, w := range ws {
		if w != 0 {
			return false
		}
	}
	return true
}
