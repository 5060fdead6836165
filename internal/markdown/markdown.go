// Package markdown renders the Markdown that Lemmy and PeerTube store
// (post bodies, comments, video descriptions) as HTML the way their web
// clients show it, so that the text and the links fedilens indexes are
// the ones people read there.
//
// Both clients render with markdown-it with raw HTML off and linkify on;
// they differ in the rule set (see Options, LemmyOptions and
// PeerTubeOptions). The parsing is goldmark's (CommonMark, with the GFM
// table and strikethrough extensions), set up to behave like markdown-it:
//
//   - raw HTML is text: the HTML block and inline HTML parsers are left
//     out, so "<b>" stays "&lt;b&gt;" and a URL written in an attribute
//     is linkified like any other text, as markdown-it with html:false
//     does;
//   - bare links are recognised by a port of markdown-it's linkify rules
//     (linkify.go): http(s) URLs, also after punctuation and in any
//     script, with markdown-it's rules for trailing punctuation, quotes
//     and brackets, and host names starting with "www." followed by a
//     known top-level domain. markdown-it links every such host name
//     ("MOMENT.at", but also "README.md" or "file.py"); here only those
//     with "www." are links, the names without stay text;
//   - links, images and autolinks to javascript:, vbscript:, file: and
//     data: (but data:image/gif, png, jpeg or webp) are no links: they
//     show as the text written, as markdown-it's validateLink makes them;
//   - hosts of http(s) links are converted to punycode and the text of a
//     recognised link is shown decoded (markdown-it's normalizeLink and
//     normalizeLinkText).
//
// The output is not safe by itself (an image or a link to any other
// scheme stays): callers pass it through sanitize.HTML, which keeps only
// http(s) links and no images.
//
// Remote input is hostile, and goldmark alone takes seconds over some
// inputs of tens of kilobytes (deep nesting, long lines of "[a](", many
// link reference definitions): input is cut at MaxInput bytes, block
// quotes, lists and footnotes nest at most maxNesting deep (a deeper
// marker is text), and links are looked for in a bounded window, so that
// the worst input of MaxInput bytes costs tens of milliseconds.
package markdown

import (
	"bytes"
	"html"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	"golang.org/x/net/idna"
)

// MaxInput caps the Markdown rendered, in bytes; the rest is cut (at a
// character boundary). It is well above the 10,000 characters PeerTube
// allows in a description and Lemmy in a comment, and keeps the worst
// input's cost in tens of milliseconds.
const MaxInput = 64 << 10

// maxNesting is how deep block quotes and lists nest; a deeper marker is
// text. markdown-it stops nesting too (its maxNesting: 100 levels in the
// default preset, 20 in the zero preset); real posts never come close.
const maxNesting = 20

// Options choose the rule set, after the markdown-it configuration of the
// program whose Markdown is rendered.
type Options struct {
	// Text restricts the rules to PeerTube's "text" rules (markdown-it's
	// zero preset with linkify, autolink, emphasis, link, newline, entity
	// and list enabled): paragraphs, lists, emphasis, links, autolinks
	// and bare links. Headings, block quotes, code, thematic breaks,
	// tables, strikethrough, link reference definitions and images are
	// text ("![a](u)" is "!" and a link, as there). Without it the rules
	// are markdown-it's default preset: CommonMark with tables and
	// strikethrough.
	Text bool
	// Breaks makes every line break inside a paragraph a <br>
	// (markdown-it's breaks option), as PeerTube shows descriptions,
	// which are written as lines.
	Breaks bool
	// Footnotes renders footnotes ("[^1]" and "[^1]: note"), as
	// lemmy-ui's markdown-it-footnote plugin does. Ignored with Text.
	Footnotes bool
}

// LemmyOptions are lemmy-ui's rules: markdown-it's default preset (html
// off, linkify on) with its footnote plugin; line breaks are soft. Not
// reproduced: the typographer (it would turn quotes into curly ones,
// which search queries typed with straight quotes would then miss) and
// lemmy-ui's other plugins (spoiler containers, sub- and superscript,
// ruby, links to !community@host), whose markup stays text; "~x~" is
// struck through (lemmy-ui: subscript), the text is the same.
func LemmyOptions() Options {
	return Options{Footnotes: true}
}

// PeerTubeOptions are PeerTube's rules for video descriptions (its
// client's "text" Markdown: markdown-it's zero preset, html off, linkify
// on, breaks on). Not reproduced: PeerTube has no backslash escapes
// there; here "\*" is "*".
func PeerTubeOptions() Options {
	return Options{Text: true, Breaks: true}
}

// Renderer renders Markdown with one rule set. It is safe for concurrent
// use.
type Renderer struct {
	md goldmark.Markdown
}

// New returns a Renderer with the rules o chooses.
func New(o Options) *Renderer {
	list := nestLimit{parser.NewListParser()}
	item := parser.NewListItemParser()
	link := boundedLinkParser{parser.NewLinkParser()}
	var blocks, inlines []util.PrioritizedValue
	var paragraphs, nodeRenderers []util.PrioritizedValue
	transformers := []util.PrioritizedValue{util.Prioritized(&transformer{text: o.Text}, 100)}
	var exts []goldmark.Extender
	if o.Text {
		blocks = []util.PrioritizedValue{
			util.Prioritized(list, 300),
			util.Prioritized(item, 400),
			util.Prioritized(indentedParagraph{parser.NewParagraphParser()}, 1000),
		}
		inlines = []util.PrioritizedValue{
			util.Prioritized(link, 200),
			util.Prioritized(parser.NewAutoLinkParser(), 300),
			util.Prioritized(parser.NewEmphasisParser(), 500),
		}
	} else {
		// goldmark's defaults without the HTML block parser.
		blocks = []util.PrioritizedValue{
			util.Prioritized(parser.NewSetextHeadingParser(), 100),
			util.Prioritized(parser.NewThematicBreakParser(), 200),
			util.Prioritized(list, 300),
			util.Prioritized(item, 400),
			util.Prioritized(parser.NewCodeBlockParser(), 500),
			util.Prioritized(parser.NewATXHeadingParser(), 600),
			util.Prioritized(parser.NewFencedCodeBlockParser(), 700),
			util.Prioritized(nestLimit{parser.NewBlockquoteParser()}, 800),
			util.Prioritized(parser.NewParagraphParser(), 1000),
		}
		// goldmark's defaults without the raw HTML parser.
		inlines = []util.PrioritizedValue{
			util.Prioritized(parser.NewCodeSpanParser(), 100),
			util.Prioritized(link, 200),
			util.Prioritized(parser.NewAutoLinkParser(), 300),
			util.Prioritized(parser.NewEmphasisParser(), 500),
		}
		paragraphs = []util.PrioritizedValue{util.Prioritized(chunkedReferences{}, 100)}
		exts = append(exts, extension.Table, extension.Strikethrough)
		if o.Footnotes {
			// extension.Footnote's parts, its definitions (containers)
			// nested no deeper than block quotes.
			blocks = append(blocks, util.Prioritized(nestLimit{extension.NewFootnoteBlockParser()}, 999))
			inlines = append(inlines, util.Prioritized(extension.NewFootnoteParser(), 101))
			transformers = append(transformers, util.Prioritized(extension.NewFootnoteASTTransformer(), 999))
			nodeRenderers = append(nodeRenderers, util.Prioritized(extension.NewFootnoteHTMLRenderer(), 500),
				util.Prioritized(footnoteRenderer{}, 400))
		}
	}
	inlines = append(inlines, util.Prioritized(linkifyParser{}, 900))
	p := parser.NewParser(
		parser.WithBlockParsers(blocks...),
		parser.WithInlineParsers(inlines...),
		parser.WithParagraphTransformers(paragraphs...),
		parser.WithASTTransformers(transformers...),
	)
	nodeRenderers = append(nodeRenderers, util.Prioritized(textRenderer{breaks: o.Breaks}, 900))
	ropts := []renderer.Option{renderer.WithNodeRenderers(nodeRenderers...)}
	return &Renderer{md: goldmark.New(goldmark.WithParser(p), goldmark.WithExtensions(exts...), goldmark.WithRendererOptions(ropts...))}
}

// HTML renders src (cut at MaxInput bytes, invalid UTF-8 replaced) as
// HTML, for the caller's sanitiser.
func (r *Renderer) HTML(src string) string {
	in := prepare(src)
	var b bytes.Buffer
	b.Grow(len(in) + len(in)/4)
	if err := r.md.Convert(in, &b); err != nil {
		// Writing to a bytes.Buffer does not fail; should goldmark ever
		// return an error, the text is shown as written.
		return "<p>" + html.EscapeString(string(in)) + "</p>\n"
	}
	return b.String()
}

// prepare cuts src at MaxInput bytes and normalises it as markdown-it
// does: line breaks to "\n", NUL and invalid UTF-8 to U+FFFD.
func prepare(src string) []byte {
	if len(src) > MaxInput {
		cut := MaxInput
		for cut > 0 && !utf8.RuneStart(src[cut]) {
			cut--
		}
		src = src[:cut]
	}
	src = strings.ToValidUTF8(src, "\uFFFD")
	if strings.ContainsAny(src, "\r\x00") {
		src = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\x00", "\uFFFD").Replace(src)
	}
	return []byte(src)
}

// indentedParagraph is goldmark's paragraph parser taking indented lines
// too: without the code block rule (Text), markdown-it reads them as
// text, where goldmark would drop them.
type indentedParagraph struct {
	parser.BlockParser
}

func (indentedParagraph) CanAcceptIndentedLine() bool { return true }

// nestLimit keeps a container block parser (block quote, list, footnote
// definition) from opening below maxNesting containers (a list and its
// item count once): goldmark's costs grow with the square of the depth.
type nestLimit struct {
	parser.BlockParser
}

func (l nestLimit) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	depth := 0
	for n := parent; n != nil; n = n.Parent() {
		if k := n.Kind(); k != ast.KindListItem && k != ast.KindDocument {
			depth++
		}
	}
	if depth >= maxNesting {
		return nil, parser.NoChildren
	}
	return l.BlockParser.Open(parent, reader, pc)
}

// maxLinkWindow bounds how far a link is looked for: a destination
// longer than this is none, and a bare URL is cut there. goldmark scans
// for the end of a destination to the end of the line, which made a long
// line of "[a](" cost the square of its length.
const maxLinkWindow = 2048

// maxDestinationLevel is markdown-it's limit of nested parentheses in a
// link destination.
const maxDestinationLevel = 32

// boundedLinkParser is goldmark's link parser reading at most
// maxLinkWindow bytes of a line at a time, and at "](" no further than
// where markdown-it's destination parser gives up: after 32 nested
// parentheses, or at a '<' or the end of the line in a <destination>.
type boundedLinkParser struct {
	parser.InlineParser
}

func (p boundedLinkParser) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	r := boundedReader{Reader: block, stop: -1}
	if line, seg := block.PeekLine(); len(line) > 2 && line[0] == ']' && line[1] == '(' {
		if end := destinationFailure(line[2:min(len(line), maxLinkWindow)]); end >= 0 {
			r.stop = seg.Start + 2 + end
		}
	}
	return p.InlineParser.Parse(parent, r, pc)
}

// CloseBlock lets goldmark's link parser turn the brackets that opened no
// link into text.
func (p boundedLinkParser) CloseBlock(parent ast.Node, block text.Reader, pc parser.Context) {
	if c, ok := p.InlineParser.(parser.CloseBlocker); ok {
		c.CloseBlock(parent, block, pc)
	}
}

// destinationFailure reads a link destination (after "(") as
// markdown-it's parseLinkDestination does and returns where that fails,
// or -1 when it does not within line.
func destinationFailure(line []byte) int {
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	if i < len(line) && line[i] == '<' {
		for i++; i < len(line); i++ {
			switch line[i] {
			case '>':
				return -1
			case '<', '\n':
				return i
			case '\\':
				i++
			}
		}
		return len(line)
	}
	level := 0
	for ; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\\':
			i++
		case c == '(':
			if level++; level > maxDestinationLevel {
				return i
			}
		case c == ')':
			if level == 0 {
				return -1
			}
			level--
		case c <= ' ' || c == 0x7f:
			return -1
		}
	}
	return -1
}

// boundedReader cuts the lines it peeks at maxLinkWindow bytes and at
// stop (a source offset, -1 for none), and reads the value of a segment
// within one line directly: goldmark's block reader looks for its line
// from the paragraph's last line on, which made a paragraph of many lines
// of "[a]" cost the square of its lines.
type boundedReader struct {
	text.Reader
	stop int
}

func (r boundedReader) PeekLine() ([]byte, text.Segment) {
	line, seg := r.Reader.PeekLine()
	n := min(len(line), maxLinkWindow)
	if r.stop > seg.Start && r.stop-seg.Start < n {
		n = r.stop - seg.Start
	}
	return line[:n], seg.WithStop(seg.Start + n)
}

func (r boundedReader) Value(seg text.Segment) []byte {
	src := r.Source()
	if 0 <= seg.Start && seg.Start <= seg.Stop && seg.Stop <= len(src) {
		if v := src[seg.Start:seg.Stop]; bytes.IndexByte(v, '\n') < 0 {
			return append([]byte(nil), v...)
		}
	}
	return r.Reader.Value(seg)
}

// refChunk is how many lines of a paragraph goldmark's link reference
// transformer reads at once.
const refChunk = 128

// chunkedReferences is goldmark's link reference definition transformer
// fed a paragraph refChunk lines at a time: it removes each definition it
// finds by copying the lines after it, which made a paragraph of many
// definitions cost the square of their number. Definitions only open a
// paragraph, so the chunks stop at the first line that is none; a
// definition cut by a chunk's end (a title on the next line, after 128
// definitions) is text.
type chunkedReferences struct{}

func (chunkedReferences) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	all := node.Lines().Sliced(0, node.Lines().Len())
	parent := node.Parent()
	for first := true; len(all) > refChunk; first = false {
		head := ast.NewParagraph()
		segs := text.NewSegments()
		segs.AppendAll(all[:refChunk])
		head.SetLines(segs)
		if first {
			head.SetBlankPreviousLines(node.HasBlankPreviousLines())
		}
		parent.InsertBefore(parent, node, head)
		parser.LinkReferenceParagraphTransformer.Transform(head, reader, pc)
		if head.Parent() == nil {
			all = all[refChunk:] // only definitions: read on
			continue
		}
		// The paragraph's text starts here: no definition follows.
		rest := head.Lines().Sliced(0, head.Lines().Len())
		parent.RemoveChild(parent, head)
		segs = text.NewSegments()
		segs.AppendAll(append(rest, all[refChunk:]...))
		node.SetLines(segs)
		return
	}
	segs := text.NewSegments()
	segs.AppendAll(all)
	node.SetLines(segs)
	parser.LinkReferenceParagraphTransformer.Transform(node, reader, pc)
}

// linkifyParser is markdown-it's inline linkify rule: at the ':' of
// "http://" or "https://" it takes the whole URL, before emphasis, code
// spans or links could split it ("https://x.example/a_b_c",
// "https://x.example/*"). The scheme is the end of the text before the
// colon, and must not continue a word (at most ten letters, digits, '+',
// '-' or '.' back, as there); stars at the end are left to emphasis.
type linkifyParser struct{}

func (linkifyParser) Trigger() []byte { return []byte{':'} }

func (linkifyParser) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	if pc.IsInLinkLabel() {
		return nil
	}
	line, seg := block.PeekLine()
	if len(line) < 3 || line[1] != '/' || line[2] != '/' {
		return nil
	}
	prev, ok := parent.LastChild().(*ast.Text)
	if !ok || prev.IsRaw() || prev.Segment.Stop != seg.Start {
		return nil
	}
	source := block.Source()
	colon := seg.Start
	start := colon
	for start > max(prev.Segment.Start, colon-10) && isSchemeChar(source[start-1]) {
		start--
	}
	scheme := string(source[start:colon])
	if !equalFoldASCII(scheme, "http") && !equalFoldASCII(scheme, "https") {
		return nil
	}
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	tail := string(line[:min(len(line), maxLinkWindow)])
	end := schemeTail(tail, 1)
	if end < 0 {
		return nil
	}
	for end > 1 && tail[end-1] == '*' {
		end--
	}
	prev.Segment = prev.Segment.WithStop(start)
	if prev.Segment.IsEmpty() {
		parent.RemoveChild(parent, prev)
	}
	block.Advance(end)
	return newLink(scheme+tail[:end], false)
}

// isSchemeChar: RFC 3986 scheme characters.
func isSchemeChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

// newLink makes a recognised link (a bare URL, or a "www." host when
// fuzzy), shown as markdown-it's normalizeLinkText shows it, pointing to
// the normalised URL (http:// added to a "www." host).
func newLink(url string, fuzzy bool) *ast.Link {
	dest := url
	if fuzzy {
		dest = "http://" + url
	}
	l := ast.NewLink()
	l.Destination = []byte(normalizeLink(dest))
	shown := linkText(dest)
	if fuzzy {
		shown = strings.TrimPrefix(shown, "http://")
	}
	l.AppendChild(l, literal(shown))
	return l
}

// transformer finishes the tree as markdown-it would have built it: links
// and images with forbidden destinations become the text written, images
// become "!" and a link under the Text rules, and bare links in text are
// linkified (markdown-it's core linkify rule: what the inline rule left,
// such as "www." hosts).
type transformer struct {
	text bool
}

func (t *transformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	t.walk(doc, reader.Source(), false)
}

// walk visits the children of n; inLink: inside a link, where nothing is
// linkified.
func (t *transformer) walk(n ast.Node, source []byte, inLink bool) {
	for c := n.FirstChild(); c != nil; {
		next := c.NextSibling()
		switch v := c.(type) {
		case *ast.Image:
			if t.text {
				// No image rule: "!" and a link.
				l := ast.NewLink()
				l.Destination, l.Title = v.Destination, v.Title
				moveChildren(v, l)
				n.InsertBefore(n, v, literal("!"))
				n.ReplaceChild(n, v, l)
				next = l
				break
			}
			if !linkAllowed(v.Destination) {
				next = unlink(n, v, "![", v.Destination, v.Title)
				break
			}
			v.Destination = normalizeDestination(v.Destination)
			t.walk(v, source, true)
		case *ast.Link:
			// Under the Text rules an image is a link, and a link holds
			// no link: markdown-it reads the outer one as text.
			if !linkAllowed(v.Destination) || t.text && hasImage(v) {
				next = unlink(n, v, "[", v.Destination, v.Title)
				break
			}
			v.Destination = normalizeDestination(v.Destination)
			t.walk(v, source, true)
		case *ast.AutoLink:
			label := string(v.Label(source))
			dest := label
			if v.AutoLinkType == ast.AutoLinkEmail {
				dest = "mailto:" + label
			}
			var r ast.Node = literal("<" + label + ">")
			if linkAllowed([]byte(dest)) {
				l := ast.NewLink()
				l.Destination = []byte(normalizeLink(dest))
				l.AppendChild(l, literal(linkText(label)))
				r = l
			}
			n.ReplaceChild(n, v, r)
			next = r.NextSibling()
		case *ast.CodeSpan:
		case *ast.Text:
			if !inLink {
				next = linkifyRun(n, v, source)
			}
		default:
			if c.HasChildren() {
				t.walk(c, source, inLink)
			}
		}
		c = next
	}
}

// moveChildren moves the children of from to the end of to.
func moveChildren(from, to ast.Node) {
	for c := from.FirstChild(); c != nil; {
		next := c.NextSibling()
		to.AppendChild(to, c)
		c = next
	}
}

// literal is text shown as written (escaped, no Markdown escapes or
// entities resolved).
func literal(s string) *ast.String {
	v := ast.NewString([]byte(s))
	v.SetRaw(true)
	return v
}

// unlink replaces a link or image whose destination is forbidden by its
// Markdown, as text: opener, the link text, "](destination "title")". It
// returns the first node to visit next: the link text, which may still
// hold links.
func unlink(parent, link ast.Node, opener string, dest, title []byte) ast.Node {
	open := literal(opener)
	parent.InsertBefore(parent, link, open)
	first := link.FirstChild()
	for c := first; c != nil; {
		next := c.NextSibling()
		parent.InsertBefore(parent, link, c)
		c = next
	}
	closing := "](" + string(dest)
	if len(title) > 0 {
		closing += ` "` + string(title) + `"`
	}
	closing += ")"
	// The destination is text now, which markdown-it linkifies.
	pos := 0
	for _, m := range findLinks(closing) {
		parent.InsertBefore(parent, link, literal(closing[pos:m.start]))
		parent.InsertBefore(parent, link, newLink(closing[m.start:m.end], m.fuzzy))
		pos = m.end
	}
	parent.ReplaceChild(parent, link, literal(closing[pos:]))
	if first != nil {
		return first
	}
	return open.NextSibling()
}

// hasImage reports an image among the descendants of n.
func hasImage(n ast.Node) bool {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if c.Kind() == ast.KindImage || hasImage(c) {
			return true
		}
	}
	return false
}

// linkifyRun linkifies the run of adjacent text nodes that starts with
// first (one text for markdown-it, which goldmark splits at every
// character an inline parser looked at) and returns the node after it.
func linkifyRun(parent ast.Node, first *ast.Text, source []byte) ast.Node {
	last := first
	for !last.SoftLineBreak() && !last.HardLineBreak() {
		nx, ok := last.NextSibling().(*ast.Text)
		if !ok || nx.IsRaw() || nx.Segment.Start != last.Segment.Stop {
			break
		}
		last = nx
	}
	after := last.NextSibling()
	if first.IsRaw() {
		return after
	}
	base := first.Segment.Start
	matches := findLinks(string(source[base:last.Segment.Stop]))
	if len(matches) == 0 {
		return after
	}
	soft, hard := last.SoftLineBreak(), last.HardLineBreak()
	pos := base
	var tail *ast.Text
	for _, m := range matches {
		if base+m.start > pos {
			parent.InsertBefore(parent, first, ast.NewTextSegment(text.NewSegment(pos, base+m.start)))
		}
		seg := text.NewSegment(base+m.start, base+m.end)
		parent.InsertBefore(parent, first, newLink(string(seg.Value(source)), m.fuzzy))
		pos = base + m.end
	}
	if pos < last.Segment.Stop || soft || hard {
		tail = ast.NewTextSegment(text.NewSegment(pos, last.Segment.Stop))
		tail.SetSoftLineBreak(soft)
		tail.SetHardLineBreak(hard)
		parent.InsertBefore(parent, first, tail)
	}
	for c := ast.Node(first); c != after; {
		next := c.NextSibling()
		parent.RemoveChild(parent, c)
		c = next
	}
	return after
}

// linkAllowed is markdown-it's validateLink on the destination as it will
// be written (Markdown escapes and character references resolved):
// javascript:, vbscript:, file: and data: are refused, but for the
// data:image/gif, png, jpeg and webp of images. Control characters and
// spaces before the scheme or inside it, which browsers skip, do not hide
// it.
func linkAllowed(dest []byte) bool {
	d := util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(dest)))
	var b strings.Builder
	for _, r := range string(d) {
		if r <= ' ' || r == 0x7f {
			continue
		}
		if r == ':' {
			b.WriteRune(r)
			break
		}
		b.WriteRune(r)
		if b.Len() > 16 {
			break
		}
	}
	scheme := strings.ToLower(b.String())
	switch scheme {
	case "javascript:", "vbscript:", "file:":
		return false
	case "data:":
		lower := strings.ToLower(strings.TrimSpace(string(d)))
		for _, ok := range []string{"data:image/gif;", "data:image/png;", "data:image/jpeg;", "data:image/webp;"} {
			if strings.HasPrefix(lower, ok) {
				return true
			}
		}
		return false
	}
	return true
}

// normalizeDestination converts the host of an http(s) destination to
// punycode (markdown-it's normalizeLink); goldmark escapes the rest when
// it writes the link.
func normalizeDestination(dest []byte) []byte {
	if !bytes.Contains(dest, []byte("://")) || isASCII(dest) {
		return dest
	}
	return []byte(normalizeLink(string(dest)))
}

// normalizeLink converts the host of an http(s) URL to punycode, as
// markdown-it's normalizeLink does; other URLs and hosts punycode cannot
// encode are returned as they are.
func normalizeLink(u string) string {
	i := strings.Index(u, "://")
	if i < 0 || !equalFoldASCII(u[:i], "http") && !equalFoldASCII(u[:i], "https") {
		return u
	}
	hostStart, hostEnd := hostBounds(u, i+3)
	h := u[hostStart:hostEnd]
	if isASCII([]byte(h)) {
		return u
	}
	a, err := idna.Punycode.ToASCII(h)
	if err != nil {
		return u
	}
	return u[:hostStart] + a + u[hostEnd:]
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// linkText is markdown-it's normalizeLinkText, how a recognised link is
// shown: the host of an http(s) URL from punycode, and percent-escapes
// of UTF-8 characters decoded (those of ";/?:@&=+$,#%" stay).
func linkText(u string) string {
	if i := strings.Index(u, "://"); i >= 0 && (equalFoldASCII(u[:i], "http") || equalFoldASCII(u[:i], "https")) {
		hostStart, hostEnd := hostBounds(u, i+3)
		if h := u[hostStart:hostEnd]; strings.Contains(strings.ToLower(h), "xn--") {
			if uh, err := idna.Punycode.ToUnicode(h); err == nil {
				u = u[:hostStart] + uh + u[hostEnd:]
			}
		}
	}
	if !strings.Contains(u, "%") {
		return u
	}
	return percentDecode(u)
}

// hostBounds returns where the host of a URL whose authority starts at
// start begins and ends (user information and port left out).
func hostBounds(u string, start int) (int, int) {
	end := len(u)
	if j := strings.IndexAny(u[start:], "/?#"); j >= 0 {
		end = start + j
	}
	if k := strings.LastIndexByte(u[start:end], '@'); k >= 0 {
		start += k + 1
	}
	if k := strings.LastIndexByte(u[start:end], ':'); k >= 0 && !strings.Contains(u[start:end], "]") {
		end = start + k
	}
	return start, end
}

// percentDecode is mdurl's decode with markdown-it's exclusions for link
// text: runs of %XX become the UTF-8 characters they encode, U+FFFD for
// broken sequences; the ASCII characters ";/?:@&=+$,#%" stay escaped.
func percentDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if !isEscape(s, i) {
			b.WriteByte(s[i])
			i++
			continue
		}
		var run []byte
		for isEscape(s, i) {
			run = append(run, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 3
		}
		for j := 0; j < len(run); {
			c := run[j]
			if c < utf8.RuneSelf {
				if strings.IndexByte(";/?:@&=+$,#%", c) >= 0 {
					b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
				} else {
					b.WriteByte(c)
				}
				j++
				continue
			}
			n := 0
			switch {
			case c&0xE0 == 0xC0:
				n = 2
			case c&0xF0 == 0xE0:
				n = 3
			case c&0xF8 == 0xF0:
				n = 4
			}
			if n == 0 || j+n > len(run) || !continuations(run[j+1:j+n]) {
				b.WriteRune(utf8.RuneError)
				j++
				continue
			}
			if r, size := utf8.DecodeRune(run[j : j+n]); r != utf8.RuneError && size == n {
				b.WriteRune(r)
			} else {
				b.WriteString(strings.Repeat("\uFFFD", n)) // overlong, surrogate or too large
			}
			j += n
		}
	}
	return b.String()
}

func isEscape(s string, i int) bool {
	return i+2 < len(s) && s[i] == '%' && isHex(s[i+1]) && isHex(s[i+2])
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func continuations(b []byte) bool {
	for _, c := range b {
		if c&0xC0 != 0x80 {
			return false
		}
	}
	return true
}

// footnoteRenderer writes footnote references and back links as
// markdown-it-footnote does ("[1]", a space before "↩︎"), so the text is
// the one Lemmy shows; goldmark writes the rest of the footnotes.
type footnoteRenderer struct{}

// footnoteIDs are a footnote's number and the id of one reference to it
// (the first "fnref:N", the later ones "fnrefR:N"), as goldmark numbers them.
func footnoteIDs(index, refIndex int) (number, ref string) {
	number = strconv.Itoa(index)
	if refIndex > 0 {
		return number, "fnref" + strconv.Itoa(refIndex) + ":" + number
	}
	return number, "fnref:" + number
}

func (footnoteRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(extast.KindFootnoteLink, func(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			n := node.(*extast.FootnoteLink)
			is, ref := footnoteIDs(n.Index, n.RefIndex)
			_, _ = w.WriteString(`<sup class="footnote-ref"><a href="#fn:` + is + `" id="` + ref + `">[` + is + `]</a></sup>`)
		}
		return ast.WalkContinue, nil
	})
	reg.Register(extast.KindFootnoteBacklink, func(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			n := node.(*extast.FootnoteBacklink)
			_, ref := footnoteIDs(n.Index, n.RefIndex)
			_, _ = w.WriteString(` <a href="#` + ref + `" class="footnote-backref">` + "\u21a9\ufe0e" + `</a>`)
		}
		return ast.WalkContinue, nil
	})
}

// textRenderer writes text as goldmark does, but a line break as "<br>"
// without the newline goldmark and markdown-it put after it, which a
// reader of the HTML's text (sanitize.Text) would count as a second line
// break; breaks: every soft line break is a <br> too.
type textRenderer struct {
	breaks bool
}

func (r textRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindText, func(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		n := node.(*ast.Text)
		if n.IsRaw() {
			gmhtml.DefaultWriter.RawWrite(w, n.Segment.Value(source))
			return ast.WalkContinue, nil
		}
		gmhtml.DefaultWriter.Write(w, n.Segment.Value(source))
		switch {
		case n.HardLineBreak() || n.SoftLineBreak() && r.breaks:
			_, _ = w.WriteString("<br>")
		case n.SoftLineBreak():
			_ = w.WriteByte('\n')
		}
		return ast.WalkContinue, nil
	})
}
