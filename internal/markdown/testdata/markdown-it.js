// Writes markdown-it.json: corpus.json rendered by markdown-it as Lemmy's
// and PeerTube's web clients configure it, the reference that
// TestMatchesMarkdownIt compares the package's output with. To
// regenerate after changing corpus.json (npm, outside the repository):
//
//   d=$(mktemp -d) && (cd "$d" && npm install markdown-it@14 markdown-it-footnote@4) &&
//   NODE_PATH="$d/node_modules" node markdown-it.js < corpus.json > markdown-it.json
//
// Lemmy: lemmy-ui's options (html off, linkify on) and its footnote
// plugin; its typographer and other plugins are left out, as the package
// leaves them out. PeerTube: its client's "text" rules for video
// descriptions (the zero preset with linkify, autolink, emphasis, link,
// newline, entity and list; breaks on).
const MarkdownIt = require('markdown-it')
const footnote = require('markdown-it-footnote')

const lemmy = new MarkdownIt({ html: false, linkify: true }).use(footnote)
const peertube = new MarkdownIt('zero', { html: false, linkify: true, breaks: true })
for (const rule of ['linkify', 'autolink', 'emphasis', 'link', 'newline', 'entity', 'list']) {
  peertube.enable(rule)
}

const corpus = JSON.parse(require('fs').readFileSync(0, 'utf8'))
const out = {
  generator: `markdown-it ${require('markdown-it/package.json').version}, markdown-it-footnote ${require('markdown-it-footnote/package.json').version}`,
  cases: corpus.map(src => ({ src, lemmy: lemmy.render(src), peertube: peertube.render(src) }))
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n')
