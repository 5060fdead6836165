package crawler

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/consent"
	"github.com/fedilens/fedilens/internal/model"
	"github.com/fedilens/fedilens/internal/sanitize"
)

// timelinePath is the Mastodon local public timeline, first page.
const timelinePath = "/api/v1/timelines/public?local=true&limit=40"

// mastodonStatus is the part of a Mastodon Status entity the crawler reads.
type mastodonStatus struct {
	ID          string    `json:"id"`
	URI         string    `json:"uri"`
	URL         string    `json:"url"`
	CreatedAt   time.Time `json:"created_at"`
	Visibility  string    `json:"visibility"`
	Language    *string   `json:"language"`
	Content     string    `json:"content"`
	SpoilerText string    `json:"spoiler_text"`
	Sensitive   bool      `json:"sensitive"`
	Replies     flexInt   `json:"replies_count"`
	Reblogs     flexInt   `json:"reblogs_count"`
	Favourites  flexInt   `json:"favourites_count"`
	Tags        []struct {
		Name string `json:"name"`
	} `json:"tags"`
	Mentions []struct {
		Acct string `json:"acct"`
	} `json:"mentions"`
	Account struct {
		Username    string `json:"username"`
		Acct        string `json:"acct"`
		DisplayName string `json:"display_name"`
		Note        string `json:"note"`
		Indexable   *bool  `json:"indexable"`
		NoIndex     bool   `json:"noindex"`
		Fields      []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"fields"`
	} `json:"account"`
}

// fetchTimelinePosts reads the first page of a Mastodon instance's local
// public timeline and returns the posts that may be stored, plus the
// number skipped by reason.
func (hc *hostCrawl) fetchTimelinePosts(ctx context.Context) ([]model.Post, []string, map[consent.Reason]int, error) {
	resp, err := hc.get(ctx, fetchRequest{URL: hc.url(timelinePath), Accept: "application/json", MaxBody: 8 << 20})
	if err != nil {
		return nil, nil, nil, err
	}
	if err := okStatus(resp); err != nil {
		return nil, nil, nil, err
	}
	var statuses []mastodonStatus
	if err := json.Unmarshal(resp.Body, &statuses); err != nil {
		return nil, nil, nil, fmt.Errorf("%w: public timeline is not an array of statuses: %v", errMalformed, err)
	}
	skipped := map[consent.Reason]int{}
	var posts []model.Post
	for _, s := range statuses {
		if r := consent.CheckVisibility(s.Visibility); r != consent.OK {
			skipped[r]++
			continue
		}
		acct := consent.Account{Indexable: s.Account.Indexable, NoIndex: s.Account.NoIndex, Bio: s.Account.Note}
		for _, f := range s.Account.Fields {
			acct.Fields = append(acct.Fields, consent.Field{Name: f.Name, Value: f.Value})
		}
		if r := consent.CheckAccount(acct); r != consent.OK {
			skipped[r]++
			continue
		}
		p, ok := hc.toPost(s)
		if !ok {
			skipped["foreign_or_invalid"]++
			continue
		}
		posts = append(posts, p)
	}
	kept := make(map[string]bool, len(posts))
	for _, p := range posts {
		kept[p.URI] = true
	}
	return posts, mentionedHosts(statuses, kept, hc.host), skipped, nil
}

// mentionedHosts returns the hosts of the remote accounts mentioned in the
// statuses kept (only posts of consenting authors are read at all),
// normalised like peer lists: a discovery source besides peer lists.
func mentionedHosts(statuses []mastodonStatus, kept map[string]bool, self string) []string {
	var raw []string
	for _, s := range statuses {
		if !kept[s.URI] {
			continue
		}
		for _, m := range s.Mentions {
			if _, host, ok := strings.Cut(strings.TrimPrefix(m.Acct, "@"), "@"); ok {
				raw = append(raw, host)
			}
		}
	}
	return normaliseHosts(raw, self)
}

// toPost converts a local status. Statuses whose URI or author is not on
// this host are refused: a server may only speak for its own accounts.
func (hc *hostCrawl) toPost(s mastodonStatus) (model.Post, bool) {
	u, err := url.Parse(s.URI)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" || !strings.EqualFold(u.Host, hc.host) {
		return model.Post{}, false
	}
	user := s.Account.Acct
	if user == "" {
		user = s.Account.Username
	}
	if name, domain, found := strings.Cut(user, "@"); found {
		if !strings.EqualFold(domain, hc.host) {
			return model.Post{}, false
		}
		user = name
	}
	if user == "" || strings.ContainsAny(user, " /@") {
		return model.Post{}, false
	}
	p := model.Post{
		URI:        s.URI,
		Host:       hc.host,
		Author:     strings.ToLower(user) + "@" + hc.host,
		AuthorName: sanitize.PlainLine(s.Account.DisplayName, 200),
		Created:    s.CreatedAt.UTC(),
		Text:       sanitize.Text(s.Content),
		HTML:       sanitize.HTML(s.Content),
		Summary:    sanitize.PlainLine(s.SpoilerText, 500),
		Sensitive:  s.Sensitive,
	}
	if pu, err := url.Parse(s.URL); err == nil && (pu.Scheme == "https" || pu.Scheme == "http") {
		p.URL = s.URL
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
