package indexer

import (
	"context"
	"fmt"
	"sort"

	index "github.com/blevesearch/bleve_index_api"

	"github.com/fedilens/fedilens/internal/model"
)

// dumpPage is how many posts Dump loads from one snapshot.
const dumpPage = 1000

// Dump calls fn with every stored post, in URI order, rebuilt from the
// stored fields so that Document(p) is the document that was indexed for
// it: URI (the document id), Host, Author, AuthorName, Language, URL,
// HTML, Kind, Sensitive, Tags, Created (to the nanosecond), and Text,
// Summary and AltText from the fields of the post's language. It lets a
// benchmark index exactly what a crawl stored through Bleve alone, and a
// verification read the whole index back. What the index does not keep is
// zero: the counts, Source, Mentions, Links and InReplyTo. Alt text is
// stored only by indexes created with the current NewMapping: an older
// index keeps the mapping saved with it, and its posts come back with an
// empty AltText.
//
// It lists every URI first (AllURIs), then loads the documents a page at
// a time, each page from one snapshot: memory holds the URIs and one
// page of posts. Posts deleted while Dump runs are left out; posts indexed
// meanwhile are not seen. An error of fn stops Dump and is returned as it
// is.
func (ix *Index) Dump(ctx context.Context, fn func(model.Post) error) error {
	adv, err := ix.idx.Advanced()
	if err != nil {
		return fmt.Errorf("dumping index: %w", err)
	}
	ids, err := ix.AllURIs(ctx)
	if err != nil {
		return fmt.Errorf("dumping index: %w", err)
	}
	for start := 0; start < len(ids); start += dumpPage {
		if err := dumpDocs(ctx, adv, ids[start:min(start+dumpPage, len(ids))], fn); err != nil {
			return err
		}
	}
	return nil
}

// dumpDocs loads the documents ids from one snapshot of adv and calls fn
// with each as a post.
func dumpDocs(ctx context.Context, adv index.Index, ids []string, fn func(model.Post) error) error {
	r, err := adv.Reader()
	if err != nil {
		return fmt.Errorf("dumping index: opening a reader: %w", err)
	}
	defer r.Close()
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("dumping index: %w", err)
		}
		doc, err := r.Document(id)
		if err != nil {
			return fmt.Errorf("dumping post %s: %w", id, err)
		}
		if doc == nil {
			continue // deleted since the URIs were listed
		}
		p, err := storedPost(id, doc)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

// storedPost rebuilds a post from a document's stored fields (see Dump).
// A post's text, summary and alt text are in the fields of its language's
// family, one of each at most.
func storedPost(id string, doc index.Document) (model.Post, error) {
	p := model.Post{URI: id}
	type tag struct {
		pos uint64
		v   string
	}
	var tags []tag
	var ferr error
	doc.VisitFields(func(f index.Field) {
		name := f.Name()
		if name == fieldCreated {
			if df, ok := f.(index.DateTimeField); ok {
				t, _, err := df.DateTime()
				if err != nil && ferr == nil {
					ferr = fmt.Errorf("dumping post %s: reading its creation time: %w", id, err)
				}
				p.Created = t.UTC()
			}
			return
		}
		tf, ok := f.(index.TextField)
		if !ok {
			return
		}
		v := tf.Text()
		switch name {
		case fieldHost:
			p.Host = v
		case fieldAuthor:
			p.Author = v
		case fieldAuthorName:
			p.AuthorName = v
		case fieldLang:
			p.Language = v
		case fieldURL:
			p.URL = v
		case fieldHTML:
			p.HTML = v
		case fieldKind:
			p.Kind = v
		case fieldSensitive:
			p.Sensitive = v == "1"
		case fieldTags:
			var pos uint64
			if ap := f.ArrayPositions(); len(ap) > 0 {
				pos = ap[0]
			}
			tags = append(tags, tag{pos, v})
		default:
			fam, ok := familyOfField(name)
			if !ok {
				return
			}
			switch name {
			case fieldOf(fieldText, fam):
				p.Text = v
			case fieldOf(fieldSummary, fam):
				p.Summary = v
			case fieldOf(fieldAlt, fam):
				p.AltText = v
			}
		}
	})
	if ferr != nil {
		return p, ferr
	}
	sort.SliceStable(tags, func(i, j int) bool { return tags[i].pos < tags[j].pos })
	for _, t := range tags {
		p.Tags = append(p.Tags, t.v)
	}
	return p, nil
}
