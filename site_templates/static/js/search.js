/* Bürgerportal search: queries the static index under suche/ (no server, no library).
   Mirrors search_index/query.py exactly; tests/search checks both give the same results. */
(function (root) {
  "use strict";

  var K1 = 1.2, B = 0.75, EXACT = 1.0, PREFIX = 0.7, PART = 0.8, TYPO = 0.6;
  var MAX_QUERY = 200, MAX_TERMS = 10, BEST = "Beste Treffer";
  /* Control and invisible characters (as CONTROL in query.py): they are read as spaces. */
  var CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g;

  /* Tables come from JSON: a word such as "constructor" must not find Object's own properties. */
  function has(table, key) { return Object.prototype.hasOwnProperty.call(table, key); }

  /* What is searched for, and whether the text was cut (as clean in query.py). */
  function clean(text) {
    var chars = Array.from(String(text).replace(CONTROL, " ").split(/\s+/).join(" ").trim());
    return { query: chars.slice(0, MAX_QUERY).join("").trim(), cut: chars.length > MAX_QUERY };
  }

  function Index(fetchJson) {
    this.fetchJson = fetchJson;   // path -> Promise of parsed JSON or null
    this.shards = {};
    this.chunks = {};
    this.meta = null;
  }

  Index.prototype.load = function () {
    var self = this;
    if (self.meta) return Promise.resolve(self);
    return self.fetchJson("meta.json").then(function (meta) {
      self.meta = meta || {};
      self.rules = self.meta.rules || {};
      return self;
    });
  };

  Index.prototype.fold = function (text) {
    text = text.toLowerCase();
    var fold = this.rules.fold;
    Object.keys(fold).forEach(function (letter) { text = text.split(letter).join(fold[letter]); });
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  };

  Index.prototype.stem = function (word) {
    var r = this.rules;
    for (var i = 0; i < r.suffixes.length; i++) {
      var suffix = r.suffixes[i];
      if (word.slice(-suffix.length) === suffix && word.length - suffix.length >= r.min_stem) {
        return word.slice(0, word.length - suffix.length) + (r.replace[suffix] || "");
      }
    }
    return word;
  };

  Index.prototype.words = function (text) {
    return this.fold(text).match(/[a-z0-9]+/g) || [];
  };

  Index.prototype.terms = function (text) {
    var stop = Object.create(null), found = [], self = this;
    this.rules.stop.forEach(function (w) { stop[w] = true; });
    this.words(text).forEach(function (word) {
      if (stop[word] || (word.length < 2 && !/^[0-9]+$/.test(word))) return;
      var term = self.stem(word);
      if (found.indexOf(term) < 0) found.push(term);
    });
    return found;
  };

  /* Shards are fetched before matching, so matching itself is synchronous. */
  Index.prototype.shardKey = function (term) { return term.slice(0, this.meta.shard_prefix); };

  Index.prototype.fetchShards = function (terms) {
    var self = this, wanted = [];
    terms.forEach(function (term) {
      var key = self.shardKey(term);
      if (!(key in self.shards) && wanted.indexOf(key) < 0) wanted.push(key);
    });
    return Promise.all(wanted.map(function (key) {
      if (self.meta.shards.indexOf(key) < 0) { self.shards[key] = {}; return null; }
      return self.fetchJson("t/" + key + ".json").then(function (table) { self.shards[key] = table || {}; });
    }));
  };

  Index.prototype.shard = function (term) { return this.shards[this.shardKey(term)] || {}; };

  /* A compound as known terms; fetches the shards it needs first. tried: the parts of
     the tails split before (as in query.py). */
  Index.prototype.split = function (term, tried) {
    var self = this, shortest = this.rules.compound_min;
    tried = tried || {};
    if (Object.prototype.hasOwnProperty.call(tried, term)) return Promise.resolve(tried[term]);
    if (term.length < 2 * shortest) { tried[term] = null; return Promise.resolve(null); }
    var heads = [];
    for (var cut = term.length - shortest; cut >= shortest; cut--) heads.push(term.slice(0, cut));
    return self.fetchShards(heads).then(function () { return self.splitFrom(term, term.length - shortest, tried); })
      .then(function (found) { tried[term] = found; return found; });
  };

  Index.prototype.splitFrom = function (term, cut, tried) {
    var self = this, shortest = this.rules.compound_min;
    if (cut < shortest) return Promise.resolve(null);
    var head = term.slice(0, cut), tail = self.stem(term.slice(cut));
    if (!has(self.shard(head), head)) return self.splitFrom(term, cut - 1, tried);
    return self.fetchShards([tail]).then(function () {
      if (has(self.shard(tail), tail)) return [head, tail];
      return self.split(tail, tried).then(function (rest) {
        if (rest) return [head].concat(rest);
        return self.splitFrom(term, cut - 1, tried);
      });
    });
  };

  Index.prototype.candidates = function (term) {
    var table = this.shard(term), found = {}, any = false, other;
    if (has(table, term)) { found[term] = EXACT; any = true; }
    if (term.length >= 3) {
      for (other in table) {
        if (other !== term && other.indexOf(term) === 0) { found[other] = PREFIX; any = true; }
      }
    }
    if (!any && term.length >= 5) {
      var limit = term.length < 8 ? 1 : 2;
      for (other in table) {
        if (Math.abs(other.length - term.length) <= limit && distance(term, other, limit) <= limit) found[other] = TYPO;
      }
    }
    return found;
  };

  Index.prototype.termScores = function (term) {
    var postings = has(this.shard(term), term) ? this.shard(term)[term] : [], docs = {}, count = 0, meta = this.meta, scores = {};
    postings.forEach(function (p) { if (!docs[p[0]]) { docs[p[0]] = true; count++; } });
    var idf = Math.log(1 + (meta.documents - count + 0.5) / (count + 0.5));
    postings.forEach(function (p) {
      var average = meta.average_lengths[p[1]] || 1;
      var norm = p[2] * (K1 + 1) / (p[2] + K1 * (1 - B + B * p[3] / average));
      scores[p[0]] = (scores[p[0]] || 0) + meta.boosts[p[1]] * idf * norm;
    });
    return scores;
  };

  Index.prototype.kindOf = function (doc) {
    var ranges = this.meta.kind_ranges;
    for (var i = 0; i < ranges.length; i++) if (ranges[i][1] <= doc && doc < ranges[i][2]) return ranges[i][0];
    return "service";
  };

  /* The place a query names besides other words, and the query's other terms (as in query.py). */
  Index.prototype.place = function (terms) {
    var places = this.meta.places || [];
    for (var i = 0; i < places.length; i++) {
      var own = places[i][2];
      if (terms.length > own.length && own.every(function (t) { return terms.indexOf(t) >= 0; })) {
        return { place: places[i], rest: terms.filter(function (t) { return own.indexOf(t) < 0; }) };
      }
    }
    return { place: null, rest: terms };
  };

  Index.prototype.search = function (query, limit) {
    var self = this;
    limit = limit || 10;
    return self.load().then(function () {
      if (!self.meta.shards) return [];
      var terms = self.terms(clean(query).query).slice(0, MAX_TERMS);
      var named = self.place(terms), bestBets = self.meta.best_bets || {};
      var key = named.rest.slice().sort().join(" ");
      var bets = Object.prototype.hasOwnProperty.call(bestBets, key) ? bestBets[key] : [];
      var town = named.place ? named.place[0] : "";
      return self.fetchShards(terms).then(function () {
        var tokens = [], chain = Promise.resolve(), tried = {};
        terms.forEach(function (term) {
          chain = chain.then(function () {
            if (has(self.shard(term), term)) { tokens.push([term, 1.0]); return; }
            return self.split(term, tried).then(function (parts) {
              if (parts) parts.forEach(function (part) { tokens.push([part, PART]); });
              else tokens.push([term, 1.0]);
            });
          });
        });
        return chain.then(function () { return self.rank(tokens, limit, bets, town); });
      });
    });
  };

  Index.prototype.rank = function (tokens, limit, bets, town) {
    var self = this, scores = {}, matched = {};
    bets = (bets || []).slice(0, limit);
    tokens.forEach(function (token) {
      var best = {}, candidates = self.candidates(token[0]);
      Object.keys(candidates).forEach(function (candidate) {
        var termScores = self.termScores(candidate);
        Object.keys(termScores).forEach(function (doc) {
          var value = termScores[doc] * candidates[candidate] * token[1];
          if (value > (best[doc] || 0)) best[doc] = value;
        });
      });
      Object.keys(best).forEach(function (doc) {
        scores[doc] = (scores[doc] || 0) + best[doc];
        matched[doc] = (matched[doc] || 0) + 1;
      });
    });
    var ranked = Object.keys(scores).map(function (key) {
      var doc = Number(key);
      var boost = self.meta.kind_boosts[self.kindOf(doc)] || 1;
      var final = scores[key] * boost * (0.5 + 0.5 * matched[key] / tokens.length);
      return [Math.round(final * 1e6) / 1e6, doc];
    });
    ranked.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
    ranked = bets.map(function (doc) { return [0, doc, true]; }).concat(
      ranked.filter(function (r) { return bets.indexOf(r[1]) < 0; }).slice(0, limit - bets.length));
    return self.fetchChunks(ranked.map(function (r) { return r[1]; })).then(function () {
      return ranked.map(function (r) {
        var size = self.meta.doc_chunk, row = self.chunks[Math.floor(r[1] / size)][r[1] % size];
        var offices = row[5] || {}, found = town ? (has(offices, town) ? offices[town] : offices[""]) : null;
        return { kind: row[0], title: row[1], url: row[2], snippet: row[3], passages: row[4] || [], score: r[0],
                 best: r[2] === true,
                 office: found ? { town: self.townName(town), name: found[0], url: found[1], address: found[2] } : null };
      });
    });
  };

  Index.prototype.townName = function (town) {
    var places = this.meta.places || [];
    for (var i = 0; i < places.length; i++) if (places[i][0] === town) return places[i][1];
    return town;
  };

  Index.prototype.fetchChunks = function (docs) {
    var self = this, wanted = [];
    docs.forEach(function (doc) {
      var n = Math.floor(doc / self.meta.doc_chunk);
      if (!(n in self.chunks) && wanted.indexOf(n) < 0) wanted.push(n);
    });
    return Promise.all(wanted.map(function (n) {
      return self.fetchJson("d/" + n + ".json").then(function (rows) { self.chunks[n] = rows || []; });
    }));
  };

  /* The teaser, or the sentence that holds more of the query's words (as best_snippet in query.py). */
  Index.prototype.bestSnippet = function (hit, query) {
    var self = this, wanted = this.terms(query);
    function matches(text) {
      var stems = self.words(text).map(function (w) { return self.stem(w); });
      return wanted.filter(function (t) { return stems.some(function (s) { return s.indexOf(t) === 0; }); }).length;
    }
    var best = hit.snippet, bestCount = matches(hit.snippet);
    hit.passages.forEach(function (sentence) {
      var count = matches(sentence);
      if (count > bestCount) { best = sentence; bestCount = count; }
    });
    return best;
  };

  function distance(a, b, limit) {
    var previous2 = [], previous = [], i, j;
    for (j = 0; j <= b.length; j++) previous.push(j);
    for (i = 1; i <= a.length; i++) {
      var current = [i];
      for (j = 1; j <= b.length; j++) {
        var cost = a[i - 1] === b[j - 1] ? 0 : 1;
        current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
          current[j] = Math.min(current[j], previous2[j - 2] + 1);
        }
      }
      if (Math.min.apply(null, current) > limit) return limit + 1;
      previous2 = previous; previous = current;
    }
    return previous[b.length];
  }

  /* The status line above the results (as status_text in dynamic/search.py). */
  function statusText(query, count, cut) {
    var text = count === 0
      ? "Keine Ergebnisse für „" + query + "“. Versuchen Sie ein anderes Wort oder nutzen Sie die Liste von A bis Z."
      : (count === 1 ? "1 Ergebnis" : count + " Ergebnisse") + " für „" + query + "“.";
    return cut ? text + " Ihre Suche war sehr lang: gesucht wurde nur nach den ersten " + MAX_QUERY + " Zeichen." : text;
  }

  root.BuergerportalSearch = { Index: Index, clean: clean, statusText: statusText };

  /* --- the search page ------------------------------------------------------------ */
  if (typeof document === "undefined") return;

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function highlight(index, text, terms) {
    return escapeHtml(text).replace(/[^\s,.;:()]+/g, function (word) {
      var words = index.words(word);
      var hit = words.some(function (w) {
        var stem = index.stem(w);
        return terms.some(function (t) { return stem.indexOf(t) === 0 || t.indexOf(stem) === 0 && stem.length >= 4; });
      });
      return hit ? "<mark>" + word + "</mark>" : word;
    });
  }

  function start() {
    var form = document.getElementById("suchformular");
    if (!form) return;
    var input = form.querySelector("input[name=q]");
    var status = document.getElementById("suchstatus");
    var list = document.getElementById("suchergebnisse");
    var base = form.getAttribute("data-index");
    var kinds = {};
    var index = new Index(function (path) {
      return fetch(base + path).then(function (r) { return r.ok ? r.json() : null; });
    });
    var latest = 0, timer = null;

    /* Best bets first under their own heading, then the other hits grouped by kind, each group
       where its best hit ranks (as the template suche_ergebnisse.html). */
    function render(query, cut, hits) {
      var terms = index.terms(query), groups = [], byGroup = {};
      kinds = index.meta.kinds || {};
      hits.forEach(function (hit) {
        var label = hit.best ? BEST : (has(kinds, hit.kind) ? kinds[hit.kind] : hit.kind);
        if (!has(byGroup, label)) { byGroup[label] = []; groups.push(label); }
        byGroup[label].push(hit);
      });
      list.innerHTML = groups.map(function (label) {
        return '<section class="result-group"><h2>' + escapeHtml(label) + '</h2><ul class="card-list">' +
          byGroup[label].map(function (hit) {
            var office = hit.office ? '<p>Für ' + escapeHtml(hit.office.town) + ' zuständig: <a href="' +
              escapeHtml(hit.office.url) + '">' + escapeHtml(hit.office.name) + '</a>' +
              (hit.office.address ? ", " + escapeHtml(hit.office.address) : "") + "</p>" : "";
            return '<li><a href="' + escapeHtml(hit.url) + '">' + escapeHtml(hit.title) + '</a><p>' +
              highlight(index, index.bestSnippet(hit, query), terms) + '</p>' + office + '</li>';
          }).join("") + "</ul></section>";
      }).join("");
      status.textContent = statusText(query, hits.length, cut);
    }

    function run() {
      var cleaned = clean(input.value), query = cleaned.query, ticket = ++latest;
      if (history.replaceState) history.replaceState(null, "", query ? "?q=" + encodeURIComponent(query) : location.pathname);
      if (!query) { list.innerHTML = ""; status.textContent = ""; return; }
      index.search(query, 20).then(function (hits) { if (ticket === latest) render(query, cleaned.cut, hits); },
        function () {
          if (ticket !== latest) return;
          list.innerHTML = "";
          status.textContent = "Die Suche hat gerade nicht geantwortet. Bitte versuchen Sie es noch einmal oder " +
            "nutzen Sie die Liste von A bis Z.";
        });
    }

    form.addEventListener("submit", function (event) { event.preventDefault(); run(); });
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 150); });
    input.addEventListener("keydown", function (event) {
      var first = list.querySelector("a");
      if (event.key === "ArrowDown" && first) { event.preventDefault(); first.focus(); }
    });
    // Results the server already wrote into the page stay as they are: replacing them
    // would move what the citizen may be about to click or is reading aloud.
    var params = new URLSearchParams(location.search);
    var answered = list.children.length > 0 || status.textContent.trim() !== "";
    if (params.get("q") && !answered) { input.value = params.get("q"); run(); }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})(typeof window !== "undefined" ? window : globalThis);
