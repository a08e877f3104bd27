package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// cookieName holds the token after a ?token= login.
const cookieName = "switchyard_admin"

// maxTokenLen bounds what is even hashed: anything longer is not a token
// (FAULTS.md B6).
const maxTokenLen = 256

// auth checks the admin token. Only its SHA-256 is kept, and presented
// tokens are compared by hash in constant time, so neither the token's
// length nor its prefix leaks through timing.
type auth struct {
	sum [sha256.Size]byte
}

func newAuth(token string) *auth { return &auth{sum: sha256.Sum256([]byte(token))} }

// valid reports whether tok is the admin token. Malformed tokens (empty,
// too long, not printable ASCII) are refused before hashing.
func (a *auth) valid(tok string) bool {
	if tok == "" || len(tok) > maxTokenLen {
		return false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] <= ' ' || tok[i] > '~' {
			return false
		}
	}
	sum := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(sum[:], a.sum[:]) == 1
}

// actor names the token's holder in the audit: a prefix of the token's
// SHA-256, which tells tokens apart without revealing one.
func (a *auth) actor() string { return fmt.Sprintf("admin token %x", a.sum[:3]) }

// serve authenticates r. It returns true when the request may proceed;
// otherwise it has answered (401, or a redirect after a ?token= login).
// An Authorization header decides alone when present; then ?token=,
// which sets an HttpOnly, SameSite=Strict cookie and, for pages, drops
// the token from the address bar; then the cookie.
func (a *auth) serve(w http.ResponseWriter, r *http.Request) bool {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") && a.valid(strings.TrimSpace(tok)) {
			return true
		}
		return unauthorized(w)
	}
	q := r.URL.Query()
	if q.Has("token") {
		tok := q.Get("token")
		if !a.valid(tok) {
			return unauthorized(w)
		}
		http.SetCookie(w, &http.Cookie{
			Name:     cookieName,
			Value:    base64.RawURLEncoding.EncodeToString([]byte(tok)),
			Path:     "/admin",
			HttpOnly: true,
			Secure:   r.TLS != nil,
			SameSite: http.SameSiteStrictMode,
		})
		if strings.HasPrefix(r.URL.Path, "/admin/api/") {
			return true
		}
		q.Del("token")
		u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
		return false
	}
	if c, err := r.Cookie(cookieName); err == nil {
		tok, err := base64.RawURLEncoding.DecodeString(c.Value)
		if err == nil && a.valid(string(tok)) {
			return true
		}
	}
	return unauthorized(w)
}

func unauthorized(w http.ResponseWriter) bool {
	w.Header().Set("WWW-Authenticate", `Bearer realm="switchyard admin"`)
	writeJSONError(w, http.StatusUnauthorized, "admin token required: Authorization: Bearer <token>, or ?token=<token> once", "invalid_admin_token")
	return false
}
