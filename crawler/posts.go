package crawler

import (
	"encoding/json"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanitize"
)

// mastodonStatus is the part of a Mastodon Status entity the crawler reads.
type mastodonStatus struct {
	ID          string          `json:"id"`
	URI         string          `json:"uri"`
	URL         string          `json:"url"`
	CreatedAt   time.Time       `json:"created_at"`
	Visibility  string          `json:"visibility"`
	Language    *string         `json:"language"`
	Content     string          `json:"content"`
	SpoilerText string          `json:"spoiler_text"`
	Sensitive   bool            `json:"sensitive"`
	InReplyToID *string         `json:"in_reply_to_id"`
	ReplyToAcct flexString      `json:"in_reply_to_account_id"`
	Reblog      json.RawMessage `json:"reblog"`
	Poll        json.RawMessage `json:"poll"`
	Replies     flexInt         `json:"replies_count"`
	Reblogs     flexInt         `json:"reblogs_count"`
	Favourites  flexInt         `json:"favourites_count"`
	Tags        []struct {
		Name string `json:"name"`
	} `json:"tags"`
	Mentions []struct {
		ID   flexString `json:"id"`
		Acct string     `json:"acct"`
	} `json:"mentions"`
	Media []struct {
		Description *string `json:"description"`
	} `json:"media_attachments"`
	Account mastodonAccount `json:"account"`
}

// toPost converts a local status. Statuses whose URI or author is not on
// this host are refused: a server may only speak for its own accounts.
func (hc *hostCrawl) toPost(s mastodonStatus) (model.Post, bool) {
	u, err := url.Parse(s.URI)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" || !strings.EqualFold(u.Host, hc.host) {
		return model.Post{}, false
	}
	author := s.Account.local(hc.host)
	if author == "" {
		return model.Post{}, false
	}
	body, text, links := sanitize.Content(s.Content)
	p := model.Post{
		URI:        s.URI,
		Host:       hc.host,
		Author:     author,
		AuthorName: sanitize.PlainLine(s.Account.DisplayName, 200),
		Created:    s.CreatedAt.UTC(),
		Text:       text,
		HTML:       body,
		Summary:    sanitize.PlainLine(s.SpoilerText, 500),
		Sensitive:  s.Sensitive,
		Kind:       s.kind(),
		Source:     model.SourceMastodon,
		AltText:    s.altText(),
		Mentions:   s.mentionAccts(hc.host),
		Links:      links,
	}
	// The display link must stay on the instance: a server may not send
	// readers elsewhere under a post's name.
	if pu, err := url.Parse(s.URL); err == nil && (pu.Scheme == "https" || pu.Scheme == "http") && strings.EqualFold(pu.Host, hc.host) {
		p.URL = s.URL
	}
	if s.InReplyToID != nil && *s.InReplyToID != "" && !strings.ContainsAny(*s.InReplyToID, "/?#") {
		// The API names the parent by id only; its API address is a stable,
		// resolvable reference (the ActivityPub URI would cost a request).
		p.InReplyTo = hc.url("/api/v1/statuses/" + url.PathEscape(*s.InReplyToID))
		p.ReplyHost = s.replyHost(hc.host)
	}
	if s.Language != nil {
		lang := strings.ToLower(strings.TrimSpace(*s.Language))
		if primary, _, _ := strings.Cut(lang, "-"); len(primary) >= 2 && len(primary) <= 3 {
			p.Language = primary
		}
	}
	seen := map[string]bool{}
	for _, t := range s.Tags {
		name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t.Name), "#"))
		if name != "" && len(name) <= 100 && !seen[name] && len(p.Tags) < 50 {
			seen[name] = true
			p.Tags = append(p.Tags, name)
		}
	}
	sort.Strings(p.Tags)
	if v := s.Replies.v; v != nil {
		p.Replies = *v
	}
	if v := s.Reblogs.v; v != nil {
		p.Reblogs = *v
	}
	if v := s.Favourites.v; v != nil {
		p.Favourites = *v
	}
	return p, true
}

// isNull reports whether a raw JSON value is absent or null.
func isNull(raw json.RawMessage) bool {
	t := strings.TrimSpace(string(raw))
	return t == "" || t == "null"
}
