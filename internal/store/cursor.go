package store

import (
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/fedilens/fedilens/internal/model"
)

// errNoRows is what clickhouse-go's QueryRow returns for an empty result.
var errNoRows = sql.ErrNoRows

// The sort orders of InstanceQuery.
const (
	sortUsers = "users"
	sortHost  = "host"
)

// cursor is the position after the last row of a page.
type cursor struct {
	sort  string
	users int64 // users_key of the last row; only for sortUsers
	host  string
}

// cursorSep separates the cursor's fields. Host names cannot contain it.
const cursorSep = "\x1f"

// maxCursorLen bounds the cursor accepted from clients: a host name is at
// most 253 bytes, so a longer cursor is not one of ours.
const maxCursorLen = 512

// encodeCursor makes the opaque NextCursor: URL-safe base64 of
// "users<US>42<US>host" or "host<US>host". It is opaque to clients, so its
// format may change; only the Store reads it.
func encodeCursor(c cursor) string {
	raw := c.sort + cursorSep
	if c.sort == sortUsers {
		raw += strconv.FormatInt(c.users, 10) + cursorSep
	}
	raw += c.host
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// decodeCursor parses a client's cursor for the given sort. Every failure
// wraps model.ErrBadQuery with a message safe to show the client.
func decodeCursor(s, sort string) (cursor, error) {
	bad := fmt.Errorf("%w: invalid cursor", model.ErrBadQuery)
	if len(s) > maxCursorLen {
		return cursor{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	parts := strings.Split(string(raw), cursorSep)
	var c cursor
	switch {
	case len(parts) == 3 && parts[0] == sortUsers:
		users, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil || users < -1 {
			return cursor{}, bad
		}
		c = cursor{sort: sortUsers, users: users, host: parts[2]}
	case len(parts) == 2 && parts[0] == sortHost:
		c = cursor{sort: sortHost, host: parts[1]}
	default:
		return cursor{}, bad
	}
	if c.host == "" {
		return cursor{}, bad
	}
	if c.sort != sort {
		return cursor{}, fmt.Errorf("%w: cursor belongs to sort %q, not %q", model.ErrBadQuery, c.sort, sort)
	}
	return c, nil
}
