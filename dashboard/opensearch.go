package dashboard

import (
	"encoding/xml"
	"net/http"
)

// openSearchDescription is an OpenSearch 1.1 description document: it lets
// browsers offer fedilens as a search engine (found through the
// <link rel="search"> every page carries) and feed readers discover the
// Atom feed of a search.
type openSearchDescription struct {
	XMLName       xml.Name        `xml:"http://a9.com/-/spec/opensearch/1.1/ OpenSearchDescription"`
	ShortName     string          `xml:"ShortName"`
	Description   string          `xml:"Description"`
	InputEncoding string          `xml:"InputEncoding"`
	Image         openSearchImage `xml:"Image"`
	URLs          []openSearchURL `xml:"Url"`
}

type openSearchImage struct {
	Width  int    `xml:"width,attr"`
	Height int    `xml:"height,attr"`
	Type   string `xml:"type,attr"`
	URL    string `xml:",chardata"`
}

type openSearchURL struct {
	Type     string `xml:"type,attr"`
	Rel      string `xml:"rel,attr,omitempty"`
	Method   string `xml:"method,attr,omitempty"`
	Template string `xml:"template,attr"`
}

// openSearch answers GET /opensearch.xml. The templates are absolute, as
// browsers require, built from Options.BaseURL or the request.
func (d *Dashboard) openSearch(w http.ResponseWriter, r *http.Request) {
	base := d.baseURL(r)
	doc := openSearchDescription{
		ShortName:     "fedilens",
		Description:   "Public fediverse posts of people who opted in to search",
		InputEncoding: "UTF-8",
		Image:         openSearchImage{Width: 16, Height: 16, Type: "image/svg+xml", URL: base + "/assets/favicon.svg"},
		URLs: []openSearchURL{
			{Type: "text/html", Method: "get", Template: base + searchPath + "?q={searchTerms}"},
			{Type: "application/atom+xml", Method: "get", Template: base + feedPath + "?q={searchTerms}"},
			{Type: "application/opensearchdescription+xml", Rel: "self", Template: base + openSearchPath},
		},
	}
	body, err := xml.MarshalIndent(doc, "", " ")
	if err != nil {
		d.log.Error("encode opensearch description", "err", err)
		plainError(w, http.StatusInternalServerError, "internal error")
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", feedCSP)
	h.Set("Content-Type", "application/opensearchdescription+xml; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}
