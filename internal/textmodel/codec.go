package textmodel

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
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
// Only features with a non-zero weight are stored, in ascending order, and
// the header's JSON has a fixed field order, so one model always encodes
// to the same bytes and Digest can name it in a table's provenance.
const (
	magic         = "SYTM"
	formatVersion = 1
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
	n := len(m.heads)
	var nonzero int
	for i := 0; i < len(m.w); i += n {
		if !allZero(m.w[i : i+n]) {
			nonzero++
		}
	}
	buf := make([]byte, 0, len(magic)+2+len(hdr)+2*binary.MaxVarintLen64+nonzero*(3+4*n))
	buf = append(buf, magic...)
	buf = binary.LittleEndian.AppendUint16(buf, formatVersion)
	buf = binary.AppendUvarint(buf, uint64(len(hdr)))
	buf = append(buf, hdr...)
	buf = binary.AppendUvarint(buf, uint64(nonzero))
	prev := 0
	for i := 0; i < len(m.w)/n; i++ {
		ws := m.w[i*n : i*n+n]
		if allZero(ws) {
			continue
		}
		buf = binary.AppendUvarint(buf, uint64(i-prev))
		prev = i
		for _, w := range ws {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(w))
		}
	}
	return buf, nil
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
	if v := binary.LittleEndian.Uint16(head[len(magic):]); v != formatVersion {
		return nil, bad(fmt.Sprintf("format version %d, want %d", v, formatVersion))
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
	for _, h := range hdr.Heads {
		if h.Kind != KindModel && h.Kind != KindCategory {
			return nil, bad(fmt.Sprintf("head %q: kind %q", h.Name, h.Kind))
		}
	}
	dim := hdr.Features.Dim()
	count, err := binary.ReadUvarint(r)
	if err != nil || count > uint64(dim) {
		return nil, bad("weight count")
	}
	m := newModel(hdr.Features, hdr.Params, hdr.Samples, hdr.Heads)
	idx := 0
	for k := uint64(0); k < count; k++ {
		d, err := binary.ReadUvarint(r)
		if err != nil || (k > 0 && d == 0) || d >= uint64(dim) || idx+int(d) >= dim {
			return nil, bad("weight index")
		}
		idx += int(d)
		if r.Len() < 4*n {
			return nil, bad("truncated weights")
		}
		for h := range n {
			var b [4]byte
			_, _ = r.Read(b[:])
			m.w[idx*n+h] = math.Float32frombits(binary.LittleEndian.Uint32(b[:]))
		}
	}
	if r.Len() != 0 {
		return nil, bad("trailing bytes")
	}
	return m, nil
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
