// Runs the browser's search engine (site_templates/static/js/search.js) in node over an
// exported index, for the parity test: node run_search.js FOLDER < queries.json
"use strict";
const fs = require("fs");
const path = require("path");
require(path.join(__dirname, "..", "..", "site_templates", "static", "js", "search.js"));

const folder = process.argv[2];
const queries = JSON.parse(fs.readFileSync(0, "utf-8"));
const index = new globalThis.BuergerportalSearch.Index((file) => {
  const target = path.join(folder, file);
  return Promise.resolve(fs.existsSync(target) ? JSON.parse(fs.readFileSync(target, "utf-8")) : null);
});

(async () => {
  const results = [];
  for (const query of queries) {
    const hits = await index.search(query, 10);
    results.push(hits.map((hit) => [hit.kind, hit.title, hit.url, index.bestSnippet(hit, query), hit.best,
      hit.office ? [hit.office.town, hit.office.name, hit.office.url, hit.office.address] : null]));
  }
  process.stdout.write(JSON.stringify(results));
})();
