package httpapi

import (
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/switchyard/switchyard/router"
)

// ModelLister lists the configured models; *router.Service is one.
// Without it, /v1/models lists only "auto".
type ModelLister interface {
	Models() router.Catalog
}

type modelEntry struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// models lists what a client may put in "model": auto, then every
// configured model by name.
func (s *Server) models() []modelEntry {
	out := []modelEntry{{ID: "auto", Object: "model", OwnedBy: "switchyard"}}
	ml, ok := s.opts.Router.(ModelLister)
	if !ok {
		return out
	}
	cat := ml.Models()
	names := make([]string, 0, len(cat))
	for name := range cat {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		out = append(out, modelEntry{ID: name, Object: "model", OwnedBy: cat[name].Provider})
	}
	return out
}

// listModels is OpenAI's GET /v1/models.
func (s *Server) listModels(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"object": "list", "data": s.models()})
}

// getModel is OpenAI's GET /v1/models/{model}.
func (s *Server) getModel(c *gin.Context) {
	id := strings.TrimPrefix(c.Param("model"), "/") // ids may hold slashes
	for _, m := range s.models() {
		if m.ID == id {
			c.JSON(http.StatusOK, m)
			return
		}
	}
	writeError(c, router.Errorf(router.KindNotFound, "model", "model %q is not configured", id))
}
