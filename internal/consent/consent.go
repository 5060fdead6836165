// Package consent decides whether an author and a post may be stored.
//
// fedilens stores a post only when every rule holds (see PROTOCOL.md §6):
// the post is addressed to the public, the author set indexable (a missing
// value counts as no), is not marked noindex, and has no opt-out word in
// the bio or profile fields. The rules live here, in one place, so the
// crawler, re-checks and purges all apply the same ones.
package consent

import (
	"fmt"
	"regexp"

	"github.com/fedilens/fedilens/internal/sanitize"
)

// Reason says why an account or post was not stored. The empty Reason means
// it may be stored.
type Reason string

// The reasons, counted by the crawler for the dashboard.
const (
	OK              Reason = ""
	NotIndexable    Reason = "not_indexable"    // indexable false or missing
	NoIndex         Reason = "noindex"          // Mastodon's noindex account flag
	OptOutWord      Reason = "opt_out_word"     // #nobot, #noindex, ... in bio or fields
	NotPublic       Reason = "not_public"       // unlisted, followers-only, direct
	InstancePrivate Reason = "instance_private" // NodeInfo metadata.private
)

// optOut matches the opt-out words on word boundaries, case-insensitively:
// #nobot, #nobots, #noindex, #nosearch, and the bare words noindex and
// nosearch. "#nobotany" and "nosearchable" do not match.
var optOut = regexp.MustCompile(`(?i)(?:^|[^\p{L}\p{N}_#])(?:#nobots?|#?noindex|#?nosearch)(?:$|[^\p{L}\p{N}_])`)

// HasOptOutWord reports whether HTML or text s contains an opt-out word.
func HasOptOutWord(s string) bool {
	return optOut.MatchString(sanitize.Text(s))
}

// Field is a profile field (name and value, possibly HTML).
type Field struct{ Name, Value string }

// Account is what the rules need to know of an author.
type Account struct {
	// Indexable is nil when the server did not say: that counts as false,
	// unless the operator's opt-in word is in the bio or a profile field.
	Indexable *bool
	NoIndex   bool
	Bio       string
	Fields    []Field
	// OptInWord is the operator's opt-in word ("" = none, the default):
	// for software without an indexable flag, an author who puts it in the
	// bio or a profile field consents. It never overrides indexable false,
	// noindex or an opt-out word.
	OptInWord string
}

// CheckAccount returns OK when the author consents to being indexed.
func CheckAccount(a Account) Reason {
	switch {
	case a.Indexable == nil && a.OptInWord != "" && a.hasWord(a.OptInWord):
		// Opted in by word, where the software has no flag.
	case a.Indexable == nil || !*a.Indexable:
		return NotIndexable
	}
	if a.NoIndex {
		return NoIndex
	}
	if HasOptOutWord(a.Bio) {
		return OptOutWord
	}
	for _, f := range a.Fields {
		if HasOptOutWord(f.Name) || HasOptOutWord(f.Value) {
			return OptOutWord
		}
	}
	return OK
}

// CheckVisibility returns OK only for Mastodon-API visibility "public".
func CheckVisibility(visibility string) Reason {
	if visibility == "public" {
		return OK
	}
	return NotPublic
}

// ValidOptInWord checks an operator's opt-in word: one word of letters,
// digits, '_' or '-', optionally starting with '#', 3 to 50 characters,
// and not one of the opt-out words.
func ValidOptInWord(w string) error {
	if !optInRE.MatchString(w) {
		return fmt.Errorf("opt-in word %q: want one word (letters, digits, _ or -, optionally after #), 3 to 50 characters", w)
	}
	if HasOptOutWord(w) {
		return fmt.Errorf("opt-in word %q is an opt-out word", w)
	}
	return nil
}

var optInRE = regexp.MustCompile(`^#?[\p{L}\p{N}_-]{3,50}$`)

// hasWord reports whether the bio or a profile field carries w as a whole
// word, case-insensitively, after reducing HTML to text.
func (a Account) hasWord(w string) bool {
	re, err := regexp.Compile(`(?i)(?:^|[^\p{L}\p{N}_#])` + regexp.QuoteMeta(w) + `(?:$|[^\p{L}\p{N}_])`)
	if err != nil {
		return false
	}
	if re.MatchString(sanitize.Text(a.Bio)) {
		return true
	}
	for _, f := range a.Fields {
		if re.MatchString(sanitize.Text(f.Name)) || re.MatchString(sanitize.Text(f.Value)) {
			return true
		}
	}
	return false
}
