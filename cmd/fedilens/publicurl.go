package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"
)

// publicURL is the --public-url flag of serve and run: the address people
// reach fedilens at, behind a proxy that may rewrite scheme and Host. The
// dashboard's OpenSearch description and Atom feeds need it for absolute
// links; without it they are derived from each request. It validates in
// Set, so a bad value from the command line, the environment or the
// configuration file is a usage error before anything starts.
type publicURL struct{ origin string }

// errPublicURL explains what --public-url accepts.
var errPublicURL = errors.New("want an absolute http(s) URL like https://fedilens.example, without user, path, query or fragment")

func (p *publicURL) String() string { return p.origin }

// Set accepts an http(s) origin, with or without a trailing slash, and
// keeps it without one. The empty string unsets the flag.
func (p *publicURL) Set(raw string) error {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		p.origin = ""
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errPublicURL
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https", u.Opaque != "", u.Hostname() == "", u.User != nil:
		return errPublicURL
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		return errPublicURL
	case u.Path != "" && u.Path != "/":
		// The dashboard's pages, feeds and assets live at the root.
		return fmt.Errorf("%w (fedilens serves at the root of its address; a path prefix is not supported)", errPublicURL)
	}
	p.origin = scheme + "://" + strings.ToLower(u.Host)
	return nil
}

// registerPublicURL adds --public-url to the commands that serve HTTP.
func (c *common) registerPublicURL(fs *flag.FlagSet) {
	fs.Var(&c.publicURL, "public-url",
		"public address of the dashboard (https://fedilens.example) for absolute links in the OpenSearch description and feeds; empty: taken from each request")
}
