package webfinger

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// xrdLink is an XRD <Link> (host-meta and old account documents).
type xrdLink struct {
	Rel      string `xml:"rel,attr"`
	Type     string `xml:"type,attr"`
	Href     string `xml:"href,attr"`
	Template string `xml:"template,attr"`
}

// xrdDoc is the part of an XRD document (OASIS XRD 1.0) that is read.
// Element names match in any namespace: real documents use the XRD
// namespace, the default namespace or none.
type xrdDoc struct {
	XMLName xml.Name
	Subject string    `xml:"Subject"`
	Aliases []string  `xml:"Alias"`
	Links   []xrdLink `xml:"Link"`
}

// maxXRDLinks bounds the links considered, whatever the body cap allows.
const maxXRDLinks = 100

// decodeXRD parses an XRD document. encoding/xml never fetches or expands
// external entities or DTDs: a DOCTYPE is skipped as a directive and an
// unknown entity reference is a syntax error, so "billion laughs" and XXE
// documents fail instead of doing work. The body is capped by the caller.
func decodeXRD(body []byte) (xrdDoc, error) {
	var doc xrdDoc
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	d.CharsetReader = func(charset string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(charset) {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return r, nil
		}
		return nil, fmt.Errorf("unsupported charset %q", charset)
	}
	if err := d.Decode(&doc); err != nil {
		return xrdDoc{}, fmt.Errorf("%w: not an XRD document: %v", ErrMalformed, err)
	}
	if doc.XMLName.Local != "XRD" {
		return xrdDoc{}, fmt.Errorf("%w: root element is %q, not XRD", ErrMalformed, truncate(doc.XMLName.Local, 50))
	}
	if len(doc.Links) > maxXRDLinks {
		doc.Links = doc.Links[:maxXRDLinks]
	}
	return doc, nil
}

// errNoTemplate: a host-meta document without a usable lrdd template.
var errNoTemplate = errors.New("no lrdd template")

// ParseHostMeta returns the WebFinger URL template of a host-meta document
// (RFC 6415): the template of its first rel="lrdd" link that asks for
// JSON, else of its first lrdd link. The template must be an absolute
// http(s) URL containing "{uri}". contentType may be anything: servers
// label host-meta application/xrd+xml, application/xml, text/xml or
// text/plain. JSON host-meta (host-meta.json) is accepted as well.
func ParseHostMeta(contentType string, body []byte) (string, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	var links []xrdLink
	if strings.HasSuffix(mediaType(contentType), "json") || bytes.HasPrefix(trimmed, []byte("{")) {
		var doc struct {
			Links []struct {
				Rel      looseString `json:"rel"`
				Type     looseString `json:"type"`
				Template looseString `json:"template"`
			} `json:"links"`
		}
		if err := json.Unmarshal(trimmed, &doc); err != nil {
			return "", fmt.Errorf("%w: host-meta is not JSON: %v", ErrMalformed, err)
		}
		for _, l := range doc.Links {
			links = append(links, xrdLink{Rel: string(l.Rel), Type: string(l.Type), Template: string(l.Template)})
		}
	} else {
		doc, err := decodeXRD(trimmed)
		if err != nil {
			return "", err
		}
		links = doc.Links
	}
	var first, jsonFirst string
	for _, l := range links {
		if strings.TrimSpace(l.Rel) != "lrdd" {
			continue
		}
		t := validTemplate(l.Template)
		if t == "" {
			continue
		}
		if first == "" {
			first = t
		}
		if mt := mediaType(l.Type); jsonFirst == "" && (mt == "application/jrd+json" || mt == "application/json") {
			jsonFirst = t
		}
	}
	switch {
	case jsonFirst != "":
		return jsonFirst, nil
	case first != "":
		return first, nil
	}
	return "", fmt.Errorf("%w: %w", ErrMalformed, errNoTemplate)
}

// validTemplate returns t if it is an absolute http(s) URL template with
// exactly one {uri} and nothing else in braces, else "".
func validTemplate(t string) string {
	t = strings.TrimSpace(t)
	if len(t) > maxURL || strings.Count(t, "{uri}") != 1 || strings.Count(t, "{") != 1 || strings.Count(t, "}") != 1 {
		return ""
	}
	u, err := url.Parse(strings.Replace(t, "{uri}", "x", 1))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return ""
	}
	return t
}

// parseXRDAccount reads an XRD account document (GNU social, old
// Friendica) into a Result.
func parseXRDAccount(body []byte) (Result, error) {
	doc, err := decodeXRD(body)
	if err != nil {
		return Result{}, err
	}
	res := Result{Subject: cleanURI(doc.Subject)}
	for _, a := range doc.Aliases {
		res.addAlias(a)
	}
	for _, l := range doc.Links {
		res.addLink(l.Rel, l.Type, l.Href)
	}
	return res, nil
}
