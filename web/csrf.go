package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/http"
	"time"
)

// sessionCookie names the browser session the form tokens are bound to:
// random, HttpOnly, SameSite=Strict, set on the first page a logged-in
// browser loads.
const sessionCookie = "switchyard_session"

// bearerSession stands for every client that sends the token in an
// Authorization header: a cross-site form cannot send that header, so
// such a client is no CSRF victim, but it still needs a form token,
// which keeps one check for every POST.
const bearerSession = "bearer"

// csrfTTL is how long a confirmation page's form stays valid.
const csrfTTL = 2 * time.Hour

// csrf issues and checks per-form tokens. A token is the time it was
// issued and HMAC-SHA256(key, session, purpose, issued): bound to one
// browser session and one action ("promote v7", "rollback", "learn"), so
// a token leaked from one form cannot confirm another, and expiring.
// The key is derived from the admin token, so every replica checks the
// tokens of the others and rotating the admin token voids all forms; a
// site that does not know the admin token cannot compute one.
type csrf struct {
	key [sha256.Size]byte
	now func() time.Time
}

func newCSRF(adminToken string, now func() time.Time) *csrf {
	return &csrf{key: sha256.Sum256([]byte("switchyard admin form key\x00" + adminToken)), now: now}
}

// Form-token refusals, each a reason shown in the 403.
var (
	errNoSession    = errors.New("no browser session: open the page again")
	errNoToken      = errors.New("the form carries no security token")
	errBadToken     = errors.New("the form's security token is not valid for this action and session")
	errExpiredToken = errors.New("the form's security token has expired: open the page again")
)

func (c *csrf) mac(session, purpose string, issued int64) []byte {
	m := hmac.New(sha256.New, c.key[:])
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(issued))
	// Lengths first, so that no two (session, purpose) pairs encode alike.
	var n [8]byte
	binary.BigEndian.PutUint32(n[:4], uint32(len(session)))
	binary.BigEndian.PutUint32(n[4:], uint32(len(purpose)))
	m.Write(n[:])
	m.Write([]byte(session))
	m.Write([]byte(purpose))
	m.Write(ts[:])
	return m.Sum(nil)
}

// issue returns a token for purpose in session.
func (c *csrf) issue(session, purpose string) string {
	issued := c.now().Unix()
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(issued))
	return base64.RawURLEncoding.EncodeToString(append(ts[:], c.mac(session, purpose, issued)...))
}

// check reports why tok is not a valid token for purpose in session, or
// nil when it is. The MAC is compared in constant time.
func (c *csrf) check(session, purpose, tok string) error {
	if session == "" {
		return errNoSession
	}
	if tok == "" {
		return errNoToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != 8+sha256.Size {
		return errBadToken
	}
	issued := int64(binary.BigEndian.Uint64(raw[:8]))
	if !hmac.Equal(raw[8:], c.mac(session, purpose, issued)) {
		return errBadToken
	}
	age := c.now().Sub(time.Unix(issued, 0))
	if age > csrfTTL || age < -time.Minute {
		return errExpiredToken
	}
	return nil
}

// session returns the request's session for form tokens: bearerSession
// for a client authenticated by header, else the session cookie. When
// create is set (pages that render forms) and the browser has none, a
// new one is set on w.
func session(w http.ResponseWriter, r *http.Request, create bool) string {
	if r.Header.Get("Authorization") != "" {
		return bearerSession
	}
	if c, err := r.Cookie(sessionCookie); err == nil && validRandomID(c.Value) {
		return c.Value
	}
	if !create {
		return ""
	}
	id := randomID()
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    id,
		Path:     "/admin",
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	return id
}

// randomID is 128 random bits in 32 lowercase hex digits: a session or
// a learner run's id.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// validRandomID accepts what randomID makes: 32 lowercase hex digits.
func validRandomID(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
