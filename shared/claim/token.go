package claim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// TokenBytes is the opt-out token's entropy: 256 bits.
const TokenBytes = 32

// TokenLen is the length of a token's text (unpadded base64url).
var TokenLen = base64.RawURLEncoding.EncodedLen(TokenBytes)

// NewOptOutToken returns a fresh 256-bit random token for the customer's
// link and its SHA-256, the only form that is stored.
func NewOptOutToken() (token, hash string) {
	b := make([]byte, TokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is the stored form of a token: hex SHA-256 of its text.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// WellFormedToken reports whether s has a token's length and alphabet, so a
// malformed link is refused before any lookup.
func WellFormedToken(s string) bool {
	if len(s) != TokenLen {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == TokenBytes
}
