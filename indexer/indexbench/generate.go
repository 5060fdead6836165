// Package indexbench generates deterministic synthetic posts and measures
// indexing them through Bleve alone, with the indexer's mapping and
// documents: the baseline that fedilens's own ingest path (the indexer's
// writer goroutine, or the whole crawl) is compared with.
package indexbench

import (
	"fmt"
	"html"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/fedilens/fedilens/internal/model"
)

// Languages of the generated posts and their weights, as in the simulator
// (internal/fedisim): mostly English, then German, French, Spanish,
// Japanese, Dutch, Portuguese, and posts without a language.
var (
	Langs       = []string{"en", "de", "fr", "es", "ja", "nl", "pt", ""}
	langWeights = []int{40, 15, 10, 8, 7, 5, 5, 10}
)

// common are frequent words per language; the long tail of each
// vocabulary is made of syllables (see Generator.Word).
var common = map[string][]string{
	"en": strings.Fields("the and to of a in is it for on that this with my was at be just have are so not but you what about today new time people one like good all more day now from back out week still think really going first know work love world night train coffee music book city people river garden weather morning photo bike travel open source code game friends family home school story"),
	"de": strings.Fields("der die und das ist nicht ich es zu ein eine mit auf für von den im heute wieder noch auch schon mal Zug Züge Haus Häuser Kaffee Musik Buch Stadt Wetter Morgen Foto Fahrrad Reise Freunde Arbeit Woche Garten Fluss Nacht Welt Spiel Schule Geschichte neue alte gute schöne"),
	"fr": strings.Fields("le la les de des et un une est pas je il elle nous vous pour dans sur avec ce qui que aujourd'hui encore train trains maison maisons café musique livre ville temps matin photo vélo voyage amis travail semaine jardin rivière nuit monde jeu école histoire chats chat nouveau belle"),
	"es": strings.Fields("el la los las de y un una es no yo que en por para con hoy otra vez tren trenes casa café música libro ciudad tiempo mañana foto bicicleta viaje amigos trabajo semana jardín río noche mundo juego escuela historia nuevo bonito"),
	"nl": strings.Fields("de het een en van is niet ik je we met op voor in vandaag weer trein treinen huis koffie muziek boek stad weer ochtend foto fiets reis vrienden werk week tuin rivier nacht wereld spel school verhaal nieuw mooi"),
	"pt": strings.Fields("o a os as de e um uma é não eu que em por para com hoje outra vez trem comboio casa café música livro cidade tempo manhã foto bicicleta viagem amigos trabalho semana jardim rio noite mundo jogo escola história novo bonito"),
	"":   strings.Fields("ok lol yes no hello thanks cool nice wow great update release version link test hi bye fun"),
	"ja": strings.Fields("今日 電車 コーヒー 音楽 本 町 天気 朝 写真 自転車 旅行 友達 仕事 週末 庭 川 夜 世界 ゲーム 学校 物語 新しい 美しい 東京 大阪 猫 犬 桜 雨 雪"),
}

var syllables = strings.Fields("ka to ri mo sa ne lu vi den gar ber tor mel fin sto pra gle ven dra kor lin ast ung ell ier ach sch au ei ou")

// Tags is the hashtag vocabulary, most popular first.
var Tags = func() []string {
	out := strings.Fields("fediverse mastodon photography music books travel trains cycling coffee gardening art opensource golang rust linux birding hiking cats dogs news")
	for i := 0; len(out) < 200; i++ {
		out = append(out, fmt.Sprintf("topic%d", i))
	}
	return out
}()

// Generator makes post i of a fixed synthetic corpus: the same seed and
// index always give the same post, so a benchmark can stream a million
// posts without holding them and index the same ones twice.
type Generator struct {
	Seed int64
	// End is the newest creation time; posts spread over the two years
	// before it.
	End time.Time
	// Hosts is the number of instances (default 2,000; posts per host
	// follow a Zipf law, as on the real fediverse).
	Hosts int
	vocab map[string][]string
}

// NewGenerator returns a generator of the corpus with the given seed.
func NewGenerator(seed int64, end time.Time) *Generator {
	g := &Generator{Seed: seed, End: end.UTC(), Hosts: 2000, vocab: map[string][]string{}}
	r := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	for _, l := range Langs {
		words := append([]string(nil), common[l]...)
		if l != "ja" {
			seen := map[string]bool{}
			for len(words) < 20000 {
				var b strings.Builder
				for range 2 + r.IntN(3) {
					b.WriteString(syllables[r.IntN(len(syllables))])
				}
				if w := b.String(); !seen[w] {
					seen[w] = true
					words = append(words, w)
				}
			}
		}
		g.vocab[l] = words
	}
	return g
}

// Vocabulary returns the words of a language, most frequent first.
func (g *Generator) Vocabulary(lang string) []string { return g.vocab[lang] }

// Host returns the name of instance h.
func Host(h int) string { return fmt.Sprintf("host%04d.example", h) }

// Post returns post i of the corpus: 50 to 400 characters in one of Langs,
// 0 to 3 hashtags, a content warning on 5%, alt text on 10%.
func (g *Generator) Post(i int) model.Post {
	r := rand.New(rand.NewPCG(uint64(g.Seed), uint64(i)))
	lang := Langs[weighted(r, langWeights)]
	host := zipf(r, g.Hosts)
	user := r.IntN(50)
	span := 2 * 365 * 24 * time.Hour
	created := g.End.Add(-time.Duration(r.Int64N(int64(span)))).Truncate(time.Second)
	p := model.Post{
		URI:      fmt.Sprintf("https://%s/users/u%d/statuses/%d", Host(host), user, i),
		URL:      fmt.Sprintf("https://%s/@u%d/%d", Host(host), user, i),
		Host:     Host(host),
		Author:   fmt.Sprintf("u%d@%s", user, Host(host)),
		Created:  created,
		Language: lang,
		Kind:     "note",
		Source:   model.SourceMastodon,
	}
	p.AuthorName = fmt.Sprintf("User %d", user)
	p.Text = g.Text(r, lang, 50+r.IntN(351))
	for range r.IntN(4) {
		p.Tags = append(p.Tags, Tags[zipf(r, len(Tags))])
	}
	if r.IntN(20) == 0 {
		p.Summary = g.Text(r, lang, 10+r.IntN(30))
		p.Sensitive = true
	}
	if r.IntN(10) == 0 {
		p.AltText = g.Text(r, lang, 20+r.IntN(80))
	}
	p.HTML = postHTML(p)
	return p
}

// postHTML is the sanitised HTML of a generated post, shaped like what
// Mastodon serves: the text in a paragraph, then one link per hashtag. It
// draws no random numbers, so the rest of the corpus is the same with or
// without it.
func postHTML(p model.Post) string {
	var b strings.Builder
	b.WriteString("<p>")
	b.WriteString(html.EscapeString(p.Text))
	for _, t := range p.Tags {
		fmt.Fprintf(&b, ` <a href="https://%s/tags/%s" class="mention hashtag" rel="nofollow noopener" target="_blank">#<span>%s</span></a>`, p.Host, t, t)
	}
	b.WriteString("</p>")
	return b.String()
}

// Text returns about n characters of text in lang.
func (g *Generator) Text(r *rand.Rand, lang string, n int) string {
	words := g.vocab[lang]
	var b strings.Builder
	sep := " "
	if lang == "ja" {
		sep = ""
	}
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(words[zipf(r, len(words))])
		if lang == "ja" && r.IntN(6) == 0 {
			b.WriteString("。")
		}
	}
	return b.String()
}

// zipf picks an index in [0, n) with probability falling as 1/(k+1).
func zipf(r *rand.Rand, n int) int {
	// Inverse of the continuous 1/x law over [1, n+1).
	k := int(math.Exp(r.Float64()*math.Log(float64(n+1)))) - 1
	return min(max(k, 0), n-1)
}

func weighted(r *rand.Rand, w []int) int {
	total := 0
	for _, x := range w {
		total += x
	}
	v := r.IntN(total)
	for i, x := range w {
		if v < x {
			return i
		}
		v -= x
	}
	return len(w) - 1
}
