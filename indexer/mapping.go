package indexer

import (
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/analysis/lang/ar"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/lang/ckb"
	"github.com/blevesearch/bleve/v2/analysis/lang/da"
	"github.com/blevesearch/bleve/v2/analysis/lang/de"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/es"
	"github.com/blevesearch/bleve/v2/analysis/lang/fa"
	"github.com/blevesearch/bleve/v2/analysis/lang/fi"
	"github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/analysis/lang/hi"
	"github.com/blevesearch/bleve/v2/analysis/lang/hr"
	"github.com/blevesearch/bleve/v2/analysis/lang/hu"
	"github.com/blevesearch/bleve/v2/analysis/lang/it"
	"github.com/blevesearch/bleve/v2/analysis/lang/nl"
	"github.com/blevesearch/bleve/v2/analysis/lang/no"
	"github.com/blevesearch/bleve/v2/analysis/lang/pt"
	"github.com/blevesearch/bleve/v2/analysis/lang/ro"
	"github.com/blevesearch/bleve/v2/analysis/lang/ru"
	"github.com/blevesearch/bleve/v2/analysis/lang/sv"
	"github.com/blevesearch/bleve/v2/analysis/lang/tr"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/fedilens/fedilens/internal/model"
)

// Field names of the index. The text of a post goes into exactly one of
// the per-language text fields (fieldText + "_" + family, or fieldText
// alone for languages without an analyser), and so do its content warning
// and media descriptions: one analysed copy per post keeps the index small,
// and each field is analysed (and queried) with its own language's
// stemmer and stop words.
const (
	fieldText       = "text"
	fieldSummary    = "summary"
	fieldAlt        = "alt"
	fieldHost       = "host"
	fieldAuthor     = "author"
	fieldAuthorName = "author_name"
	fieldLang       = "lang"
	fieldTags       = "tags"
	fieldCreated    = "created"
	fieldMonth      = "month"
	fieldDay        = "day" // days since 1970-01-01 (UTC), for date filters
	fieldURL        = "url"
	fieldKind       = "kind"
	fieldSensitive  = "sensitive"
	// fieldHTML is the post's sanitised HTML (model.Post.HTML), stored
	// for display and never indexed: search reads the plain text.
	fieldHTML = "html"
)

// Boosts of the text fields: a word in the body counts more than the same
// word in a content warning, which counts more than one in a media
// description.
const (
	boostText    = 1.0
	boostSummary = 0.5
	boostAlt     = 0.3
	// boostPhrase is the extra weight of a post holding a multi-word query's
	// words side by side, over one where they are scattered.
	boostPhrase = 2.0
	// boostTag is the extra weight of a post tagged with a query word.
	boostTag = 1.5
)

// families maps a language's primary tag to the analyser family whose
// field holds its posts. Every family is one of bleve's language
// analysers; languages not listed use the standard analyser (field "text"
// with no suffix): tokenised on Unicode word boundaries and lower-cased,
// but not stemmed.
var families = map[string]string{
	"ar": ar.AnalyzerName, "ckb": ckb.AnalyzerName, "da": da.AnalyzerName, "de": de.AnalyzerName,
	"en": en.AnalyzerName, "es": es.AnalyzerName, "fa": fa.AnalyzerName, "fi": fi.AnalyzerName,
	"fr": fr.AnalyzerName, "hi": hi.AnalyzerName, "hr": hr.AnalyzerName, "hu": hu.AnalyzerName,
	"it": it.AnalyzerName, "nl": nl.AnalyzerName, "no": no.AnalyzerName, "nb": no.AnalyzerName,
	"nn": no.AnalyzerName, "pt": pt.AnalyzerName, "ro": ro.AnalyzerName,
	"ru": ru.AnalyzerName, "sv": sv.AnalyzerName, "tr": tr.AnalyzerName,
	// Chinese, Japanese and Korean have no spaces between words: the CJK
	// analyser indexes overlapping bigrams.
	"ja": cjk.AnalyzerName, "zh": cjk.AnalyzerName, "ko": cjk.AnalyzerName,
}

// familyNames lists every family once, in a fixed order, "" (standard)
// first.
var familyNames = func() []string {
	seen := map[string]bool{"": true}
	out := []string{""}
	for _, f := range []string{"en", "de", "fr", "es", "it", "pt", "nl", "ru", "cjk", "ar", "ckb", "da", "fa", "fi", "hi", "hr", "hu", "no", "ro", "sv", "tr"} {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}()

// familyOf returns the analyser family of a language tag ("" for the
// standard analyser). Region and script subtags are ignored: "pt-BR" is
// Portuguese.
func familyOf(lang string) string {
	lang = strings.ToLower(lang)
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	return families[lang]
}

// analyzerOf is the analyser of a family's fields.
func analyzerOf(family string) string {
	if family == "" {
		return standard.Name
	}
	return family
}

// fieldOf names the field of base (text, summary, alt) for a family.
func fieldOf(base, family string) string {
	if family == "" {
		return base
	}
	return base + "_" + family
}

// familyOfField is fieldOf's inverse: the family of a text, summary or
// alt field, and whether name is one.
func familyOfField(name string) (string, bool) {
	for _, base := range []string{fieldText, fieldSummary, fieldAlt} {
		if name == base {
			return "", true
		}
		if f, ok := strings.CutPrefix(name, base+"_"); ok {
			for _, fam := range familyNames {
				if fam == f {
					return f, true
				}
			}
		}
	}
	return "", false
}

// storedFields is what a search loads for each hit: every family's text
// and summary (a post has one of each at most) and the metadata.
var storedFields = func() []string {
	out := []string{fieldHost, fieldAuthor, fieldAuthorName, fieldLang, fieldTags, fieldCreated, fieldURL, fieldKind, fieldSensitive, fieldHTML}
	for _, f := range familyNames {
		out = append(out, fieldOf(fieldText, f), fieldOf(fieldSummary, f))
	}
	return out
}()

// NewMapping returns the static index mapping: per-language text,
// content-warning and alt-text fields (see families), keyword fields for
// the filters and facets, the creation time for date ranges, and the sort
// key (see sortKey) with doc values for the "newest" sort. Facets read the
// doc values of short keyword terms only (instance, language, hashtags,
// "YYYY-MM" month), so their cost per matching post stays small. Nothing
// is mapped dynamically.
func NewMapping() mapping.IndexMapping {
	textField := func(analyzer string, store, vectors bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = store // snippets are built from the stored text
		// Phrase queries and snippet locations need term vectors.
		f.IncludeTermVectors = vectors
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	kw := func(store, docValues bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = store
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = docValues // facets read doc values
		return f
	}
	storedOnly := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Index = false
		f.Store = true
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = false
		return f
	}
	created := bleve.NewDateTimeFieldMapping()
	created.Store = true
	created.IncludeInAll = false
	// Sorting reads the sort key, not the creation time: a date's doc
	// values are its 16 precision-shifted terms, eight times the key.
	created.DocValues = false

	post := bleve.NewDocumentStaticMapping()
	for _, fam := range familyNames {
		a := analyzerOf(fam)
		post.AddFieldMappingsAt(fieldOf(fieldText, fam), textField(a, true, true))
		post.AddFieldMappingsAt(fieldOf(fieldSummary, fam), textField(a, true, true))
		post.AddFieldMappingsAt(fieldOf(fieldAlt, fam), textField(a, true, false))
	}
	// The pairs of adjacent words, for phrases (phrase.go): neither
	// stored nor with term vectors.
	for _, fam := range pairFamilies {
		post.AddFieldMappingsAt(fieldOf(fieldPhrase, fam), textField(phraseAnalyzerName(fam), false, false))
	}
	post.AddFieldMappingsAt(fieldHost, kw(true, true))
	post.AddFieldMappingsAt(fieldAuthor, kw(true, false))
	post.AddFieldMappingsAt(fieldLang, kw(true, true))
	post.AddFieldMappingsAt(fieldTags, kw(true, true))
	post.AddFieldMappingsAt(fieldMonth, kw(false, true))
	post.AddFieldMappingsAt(fieldCreated, created)
	post.AddFieldMappingsAt(fieldSortKey, kw(false, true))
	post.AddFieldMappingsAt(fieldDay, dayField())
	post.AddFieldMappingsAt(fieldHTML, storedOnly())
	post.AddFieldMappingsAt(fieldAuthorName, storedOnly())
	post.AddFieldMappingsAt(fieldURL, storedOnly())
	post.AddFieldMappingsAt(fieldKind, storedOnly())
	post.AddFieldMappingsAt(fieldSensitive, storedOnly())

	m := bleve.NewIndexMapping()
	m.AddDocumentMapping(docType, post)
	m.DefaultMapping = bleve.NewDocumentDisabledMapping()
	m.DefaultAnalyzer = standard.Name
	m.StoreDynamic = false
	m.IndexDynamic = false
	m.DocValuesDynamic = false
	return m
}

// docType is the Bleve document type of posts.
const docType = "post"

// postDoc is what is stored in Bleve for one post: a map, because the
// names of its text fields depend on the post's language.
type postDoc map[string]any

// Type is the Bleve document type.
func (postDoc) Type() string { return docType }

// Document returns the Bleve document of a post, as Index writes it under
// the post's URI with the mapping of NewMapping. It is exported for
// benchmarks that index through Bleve directly, with the same documents.
func Document(p model.Post) any { return toDoc(p) }

func toDoc(p model.Post) postDoc {
	fam := familyOf(p.Language)
	created := p.Created.UTC()
	d := postDoc{
		fieldCreated: created,
		fieldMonth:   created.Format("2006-01"),
		fieldSortKey: sortKey(created),
		fieldDay:     float64(dayNumber(created)),
	}
	set := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	set(fieldHost, strings.ToLower(p.Host))
	set(fieldAuthor, strings.ToLower(p.Author))
	set(fieldOf(fieldText, fam), p.Text)
	if hasPairField(fam) {
		set(fieldOf(fieldPhrase, fam), p.Text)
	}
	set(fieldOf(fieldSummary, fam), p.Summary)
	set(fieldOf(fieldAlt, fam), p.AltText)
	set(fieldAuthorName, p.AuthorName)
	set(fieldLang, strings.ToLower(p.Language))
	set(fieldURL, p.URL)
	set(fieldHTML, p.HTML)
	set(fieldKind, strings.ToLower(p.Kind))
	if p.Sensitive {
		d[fieldSensitive] = "1"
	}
	if len(p.Tags) > 0 {
		tags := make([]string, 0, len(p.Tags))
		for _, t := range p.Tags {
			if t = strings.ToLower(strings.TrimPrefix(t, "#")); t != "" {
				tags = append(tags, t)
			}
		}
		d[fieldTags] = tags
	}
	return d
}
