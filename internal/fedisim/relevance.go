package fedisim

import (
	"html"
	"strconv"
	"strings"
	"time"
)

// RelevanceCase is one query of the ranking test with the posts that
// answer it: Relevant maps post URIs to grades, 3 (clearly about the
// query) down to 1 (partly). Posts that are not listed are not relevant;
// among them are distractors that contain one of the query's words in
// long unrelated text.
type RelevanceCase struct {
	Query    string
	Lang     string // language of the relevant posts
	Relevant map[string]int
}

// relevanceSpec is one planted query: its relevant posts by grade and the
// words a distractor carries.
type relevanceSpec struct {
	query, lang, user string
	grade3, grade2    []string // short and medium texts
	grade1            []string // long texts that touch the subject
	distract          []string // words a distractor carries once
	tag               string   // hashtag every relevant post carries ("" for none)
}

var relevanceSpecs = []relevanceSpec{
	{query: "sourdough starter", lang: "en", user: "crumbcoat",
		grade3:   []string{"My sourdough starter doubled overnight! Feeding the sourdough starter twice a day works.", "Sourdough starter tip: keep your sourdough starter warm and it will bubble."},
		grade2:   []string{"Baked bread with a new sourdough starter this weekend, and the loaf came out fine."},
		grade1:   []string{"A long day in the kitchen: soup, a salad, and finally a loaf from the starter I keep for sourdough bread."},
		distract: []string{"sourdough", "starter"}},
	{query: "mechanical keyboard", lang: "en", user: "keyclack",
		grade3:   []string{"New mechanical keyboard arrived. This mechanical keyboard has tactile switches and sounds great.", "Lubed every switch of my mechanical keyboard today; best mechanical keyboard ever."},
		grade2:   []string{"Typing this on a mechanical keyboard I built from a kit last winter."},
		grade1:   []string{"Desk tour: a monitor arm, a lamp, a plant and a keyboard with mechanical switches that I rarely clean."},
		distract: []string{"mechanical", "keyboard"}},
	{query: "solar panels", lang: "en", user: "sunroof",
		grade3:   []string{"Solar panels are up! The solar panels on our roof made 12 kWh today.", "Cleaning solar panels matters: dusty solar panels lose output."},
		grade2:   []string{"We finally got quotes for solar panels on the garage roof."},
		grade1:   []string{"Energy bill is down this summer, partly thanks to the panels and partly to the weather; solar is nice."},
		distract: []string{"solar", "panels"}},
	{query: "tide pools", lang: "en", user: "tidewatch",
		grade3:   []string{"Tide pools at low tide: anemones everywhere. I love tide pools.", "Found a sea star in the tide pools; tide pools are tiny worlds."},
		grade2:   []string{"Took the kids to explore tide pools along the northern coast."},
		grade1:   []string{"Beach day with a picnic and long walks; at low tide we looked into a few pools among the rocks."},
		distract: []string{"tide", "pools"}},
	{query: "bicycle repair", lang: "en", user: "velofix",
		grade3:   []string{"Bicycle repair workshop tonight: bring your bicycle and we will do the repair together.", "Bicycle repair basics: a bicycle chain repair takes ten minutes."},
		grade2:   []string{"Spent the afternoon on bicycle repair, new brake pads and a tube."},
		grade1:   []string{"Busy week with work and errands, and the weekend went to the repair of an old bicycle from the shed."},
		distract: []string{"bicycle", "repair"}},
	{query: "aurora borealis", lang: "en", user: "nightsky",
		grade3:   []string{"Aurora borealis over the lake tonight! The aurora borealis was green and pink.", "Forecast says aurora borealis again; last aurora borealis was stunning."},
		grade2:   []string{"Drove north hoping to see the aurora borealis and it appeared at midnight."},
		grade1:   []string{"Cold night, clear sky, hot tea, and around one in the morning a faint aurora, the borealis kind, over the hills."},
		distract: []string{"aurora", "borealis"}},
	{query: "chess openings", lang: "en", user: "gambiteer",
		grade3:   []string{"Chess openings I play: the Italian and the London. Chess openings matter less than tactics.", "Studying chess openings tonight; which chess openings do beginners need?"},
		grade2:   []string{"Our club night was about chess openings for players who just started."},
		grade1:   []string{"Long evening at the club with pizza, blitz games and a talk on openings; chess is a lovely hobby."},
		distract: []string{"chess", "openings"}},
	{query: "Bäckerei", lang: "de", user: "brotzeit",
		grade3:   []string{"Die Bäckerei an der Ecke hat die besten Brötchen. Eine Bäckerei wie früher!", "Zwei neue Bäckereien in der Altstadt, und beide Bäckereien backen mit Sauerteig."},
		grade2:   []string{"Heute Morgen in der Bäckerei frische Brezeln geholt."},
		grade1:   []string{"Ein langer Samstag mit Markt, Bibliothek und Spaziergang am Fluss, und zum Schluss ein Kuchen aus den Bäckereien der Nachbarschaft."},
		distract: []string{"Bäcker", "Backofen"}},
	{query: "boulangerie", lang: "fr", user: "croissant",
		grade3:   []string{"La boulangerie du quartier fait un pain incroyable. Vive la boulangerie !", "Trois boulangeries ont ouvert en ville ; les boulangeries font la queue le dimanche."},
		grade2:   []string{"Ce matin, une baguette encore chaude de la boulangerie."},
		grade1:   []string{"Longue journée de marche, de musées et de cafés, avec une pause chez une des boulangeries près de la gare."},
		distract: []string{"boulanger", "pâtisserie"}},
	{query: "#birdwatching", lang: "en", user: "fieldnotes", tag: "Birdwatching",
		grade3:   []string{"Seventeen species before breakfast.", "A kingfisher by the bridge again."},
		grade2:   []string{"Morning walk with binoculars along the marsh, a few herons and a grebe."},
		grade1:   []string{"Quiet weekend of reading, gardening and an hour by the pond with a notebook."},
		distract: []string{"birdwatching", "binoculars"}},
}

// filler is neutral text for distractors, per language.
var filler = map[string][]string{
	"en": {"The meeting ran long and the coffee went cold.", "We repainted the hallway in a pale green.", "The train was late again, so I read a chapter.",
		"Our neighbour plays the trumpet every evening.", "Tax forms are due next week and I have not started.", "The library extended its opening hours."},
	"de": {"Das Meeting dauerte lange und der Kaffee wurde kalt.", "Wir haben den Flur hellgrün gestrichen.", "Der Zug hatte wieder Verspätung.",
		"Unser Nachbar spielt jeden Abend Trompete.", "Die Steuererklärung ist nächste Woche fällig."},
	"fr": {"La réunion a duré longtemps et le café a refroidi.", "Nous avons repeint le couloir en vert pâle.", "Le train était encore en retard.",
		"Notre voisin joue de la trompette tous les soirs.", "Les impôts sont à rendre la semaine prochaine."},
}

// pickPlantHosts chooses the instances that carry the relevance cases:
// the first seed and up to three Mastodon 4.3+ instances without any
// behaviour, not isolated, with an open API (so they are stored and rule 5
// reads them in any world large enough to reach them).
func (w *world) pickPlantHosts() {
	if !w.plant {
		return
	}
	w.plantHosts = []*instance{w.instances[0]}
	for _, in := range w.instances[3:] {
		if len(w.plantHosts) == 4 {
			break
		}
		if in.kind == swMastodon && versionAtLeast(in.version, 4, 3) && in.beh == 0 && !in.isolated && !in.apiAuth && !w.farm.publishes(in.idx) {
			w.plantHosts = append(w.plantHosts, in)
		}
	}
	for i, in := range w.plantHosts {
		in.plantSlot = i + 1
	}
}

// plantPost is one planted post before it is placed on an instance.
type plantPost struct {
	spec  int
	grade int // 0 for distractors
	text  string
}

// plantedPosts lists every planted post in a fixed order.
func (w *world) plantedPosts() []plantPost {
	var out []plantPost
	for i, sp := range relevanceSpecs {
		for g, texts := range [][]string{sp.grade3, sp.grade2, sp.grade1} {
			for _, tx := range texts {
				out = append(out, plantPost{spec: i, grade: 3 - g, text: tx})
			}
		}
		r := newRNG(w.seed, saltRelevance, uint64(i))
		fill := filler[sp.lang]
		for k := 0; k < 12; k++ {
			var b []string
			word := sp.distract[k%len(sp.distract)]
			n := 6 + r.intn(4)
			at := r.intn(n)
			for s := 0; s < n; s++ {
				b = append(b, fill[r.intn(len(fill))])
				if s == at {
					b = append(b, distractorSentence(sp.lang, word))
				}
			}
			out = append(out, plantPost{spec: i, text: strings.Join(b, " ")})
		}
	}
	return out
}

func distractorSentence(lang, word string) string {
	switch lang {
	case "de":
		return "Nebenbei: das Wort " + word + " stand heute auf einem Schild."
	case "fr":
		return "Au passage, le mot " + word + " était écrit sur une affiche."
	}
	return "By the way, someone said " + word + " at lunch today."
}

// plantRelevance adds the planted accounts and posts to a plant host:
// planted post number i goes to plant host i mod len(plantHosts), written
// by the account of its query there. The accounts consent and are
// discoverable; their posts are public, in the query's language, created
// between two and sixty days before Now.
func (w *world) plantRelevance(in *instance, c *content) {
	if in.plantSlot == 0 {
		return
	}
	slot, hosts := in.plantSlot-1, len(w.plantHosts)
	byUser := map[string]*account{}
	var added []*post
	for i, pp := range w.plantedPosts() {
		if i%hosts != slot {
			continue
		}
		sp := relevanceSpecs[pp.spec]
		a := byUser[sp.user]
		if a == nil {
			created := w.now.Add(-time.Duration(400+pp.spec) * 24 * time.Hour)
			a = &account{
				username: sp.user, displayName: strings.ToUpper(sp.user[:1]) + sp.user[1:], created: created,
				indexable: boolPtr(true), discoverable: true, planted: true,
				noteHTML: "<p>" + html.EscapeString(filler[sp.lang][0]) + "</p>",
				id:       strconv.FormatInt(snowflake(created, len(c.accounts)), 10),
			}
			a.actorPath, a.outboxPath = "/users/"+a.username, "/users/"+a.username+"/outbox"
			a.profileURL = "https://" + in.host + "/@" + a.username
			a.actorURI = "https://" + in.host + a.actorPath
			byUser[sp.user] = a
			c.accounts = append(c.accounts, a)
		}
		r := newRNG(w.seed, saltRelevance, 1000+uint64(i))
		pst := &post{
			seq: c.nextSeq, author: a, visibility: "public", lang: sp.lang, kind: kindNote,
			created: w.now.Add(-time.Duration(2*86400+r.intn(58*86400)) * time.Second),
		}
		c.nextSeq++
		body := "<p>" + html.EscapeString(pp.text)
		if sp.tag != "" && pp.grade > 0 {
			low := strings.ToLower(sp.tag)
			pst.tags = []string{low}
			body += ` <a href="https://` + in.host + `/tags/` + low + `" class="mention hashtag" rel="tag">#<span>` + sp.tag + `</span></a>`
		}
		pst.contentHTML = body + "</p>"
		w.assignPostIDs(in, r, pst)
		a.posts = append(a.posts, pst)
		added = append(added, pst)
	}
	c.posts = append(c.posts, added...)
	sortNewest(c.posts)
	for _, a := range byUser {
		sortNewest(a.posts)
	}
}

func sortNewest(posts []*post) {
	for i := 1; i < len(posts); i++ {
		for j := i; j > 0 && newer(posts[j], posts[j-1]); j-- {
			posts[j], posts[j-1] = posts[j-1], posts[j]
		}
	}
}

// relevanceCases lists the planted cases with every planted relevant
// post's URI (RelevanceCases filters them by what rule 5 stores).
func (w *world) relevanceCases() []RelevanceCase {
	if len(w.plantHosts) == 0 {
		return nil
	}
	cases := make([]RelevanceCase, len(relevanceSpecs))
	for i, sp := range relevanceSpecs {
		cases[i] = RelevanceCase{Query: sp.query, Lang: sp.lang, Relevant: map[string]int{}}
	}
	for _, in := range w.plantHosts {
		c := w.contentOfPlanted(in)
		for _, a := range c.accounts {
			if !a.planted {
				continue
			}
			for _, pst := range a.posts {
				if g := plantGrade(pst); g > 0 {
					cases[plantSpec(a)].Relevant[pst.uri] = g
				}
			}
		}
	}
	return cases
}

// contentOfPlanted generates a plant host's epoch-0 content (planted
// accounts are exempt from epoch changes, so epoch 0 is every epoch's).
func (w *world) contentOfPlanted(in *instance) *content { return w.generateBase(in) }

func plantSpec(a *account) int {
	for i, sp := range relevanceSpecs {
		if sp.user == a.username {
			return i
		}
	}
	return -1
}

// plantGrade recovers the grade of a planted post from its text.
func plantGrade(pst *post) int {
	sp := relevanceSpecs[plantSpec(pst.author)]
	text := htmlText(pst.contentHTML)
	for g, texts := range [][]string{sp.grade3, sp.grade2, sp.grade1} {
		for _, tx := range texts {
			if strings.HasPrefix(text, tx) {
				return 3 - g
			}
		}
	}
	return 0
}

// RelevanceCases returns the planted ranking cases (Options.PlantRelevance;
// nil otherwise), each keeping only the relevant posts that Posts(seeds of
// the Sim, no retention) holds at this epoch, so a search over what the
// crawler stored can find all of them. Cases left without a relevant post
// are dropped.
func (t *Truth) RelevanceCases() []RelevanceCase {
	if len(t.relevance) == 0 {
		return nil
	}
	stored := map[string]bool{}
	for _, p := range t.Posts(t.seeds, time.Time{}) {
		stored[p.URI] = true
	}
	var out []RelevanceCase
	for _, rc := range t.relevance {
		keep := RelevanceCase{Query: rc.Query, Lang: rc.Lang, Relevant: map[string]int{}}
		for uri, g := range rc.Relevant {
			if stored[uri] {
				keep.Relevant[uri] = g
			}
		}
		if len(keep.Relevant) > 0 {
			out = append(out, keep)
		}
	}
	return out
}
