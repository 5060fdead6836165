package main

import (
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/fedilens/fedilens/internal/model"
)

// baselineMapping is the index mapping before per-language analysers: one
// standard-analysed text field and one summary field for every language.
// The bench indexes the same posts with it and with indexer.NewMapping to
// show what the per-language fields cost.
func baselineMapping() mapping.IndexMapping {
	text := bleve.NewTextFieldMapping()
	text.Analyzer = standard.Name
	text.Store = true
	text.IncludeTermVectors = true
	text.IncludeInAll = false
	text.DocValues = false
	kw := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = true
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = false
		return f
	}
	created := bleve.NewDateTimeFieldMapping()
	created.Store = true
	created.IncludeInAll = false
	created.DocValues = true
	storedOnly := bleve.NewTextFieldMapping()
	storedOnly.Index = false
	storedOnly.Store = true
	storedOnly.IncludeInAll = false
	storedOnly.IncludeTermVectors = false
	storedOnly.DocValues = false

	post := bleve.NewDocumentStaticMapping()
	post.AddFieldMappingsAt("text", text)
	post.AddFieldMappingsAt("summary", text)
	post.AddFieldMappingsAt("host", kw())
	post.AddFieldMappingsAt("author", kw())
	post.AddFieldMappingsAt("lang", kw())
	post.AddFieldMappingsAt("tags", kw())
	post.AddFieldMappingsAt("created", created)
	post.AddFieldMappingsAt("author_name", storedOnly)
	post.AddFieldMappingsAt("url", storedOnly)
	m := bleve.NewIndexMapping()
	m.AddDocumentMapping("post", post)
	m.DefaultMapping = bleve.NewDocumentDisabledMapping()
	m.DefaultAnalyzer = standard.Name
	m.StoreDynamic = false
	m.IndexDynamic = false
	m.DocValuesDynamic = false
	return m
}

// baselineDoc is the document of the baseline mapping.
type baselineDoc struct {
	Text       string    `json:"text"`
	Summary    string    `json:"summary"`
	Host       string    `json:"host"`
	Author     string    `json:"author"`
	AuthorName string    `json:"author_name"`
	Lang       string    `json:"lang"`
	Tags       []string  `json:"tags"`
	Created    time.Time `json:"created"`
	URL        string    `json:"url"`
}

// Type is the Bleve document type.
func (baselineDoc) Type() string { return "post" }

func toBaseline(p model.Post) baselineDoc {
	return baselineDoc{Text: p.Text, Summary: p.Summary, Host: p.Host, Author: p.Author, AuthorName: p.AuthorName,
		Lang: p.Language, Tags: p.Tags, Created: p.Created.UTC(), URL: p.URL}
}
