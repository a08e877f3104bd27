package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/switchyard/switchyard/router"
)

// decode reads the JSON body into v and turns every way it can be wrong
// into a *router.Error naming the field (FAULTS.md B1, B2).
func decode(c *gin.Context, v any) error {
	dec := json.NewDecoder(c.Request.Body)
	err := dec.Decode(v)
	if err == nil {
		if dec.More() {
			return router.Errorf(router.KindInvalid, "body", "must hold exactly one JSON object")
		}
		return nil
	}
	var (
		maxErr    *http.MaxBytesError
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
	)
	switch {
	case errors.As(err, &maxErr):
		return router.Errorf(router.KindTooLarge, "body", "larger than the limit of %d bytes", maxErr.Limit)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return router.Errorf(router.KindInvalid, field, "must be %s, got %s", jsonType(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return router.Errorf(router.KindInvalid, "body", "invalid JSON at byte %d", syntaxErr.Offset)
	case errors.Is(err, io.EOF):
		return router.Errorf(router.KindInvalid, "body", "must be a JSON object, got an empty body")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return router.Errorf(router.KindInvalid, "body", "invalid JSON: unexpected end")
	default:
		return router.Errorf(router.KindInvalid, "body", "invalid JSON: %s", fmt.Sprint(err))
	}
}

// jsonType names a Go kind the way a JSON client thinks of it.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "a boolean"
	default:
		return "a number"
	}
}
