/*! Threadline comment counts: fills a listing page's placeholders with each article's comment count.
 *
 *   <a href="/posts/my-post">My post</a> <span data-threadline-count="my-post"></span>
 *   <script src="https://THREADLINE/count.js" data-site="SITE" async></script>
 *
 * Each element with data-threadline-count="KEY" gets "N comments" (or data-threadline-zero, data-threadline-one
 * and data-threadline-many, with {n} for the number, to say it otherwise). One request per 100 articles, no
 * cookie, nothing read from the page but these attributes.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector('script[src*="count.js"][data-site]');
  if (!script) return;
  var endpoint = new URL("/graphql", script.src).href;
  var site = script.getAttribute("data-site") || "";
  var elements = Array.prototype.slice.call(document.querySelectorAll("[data-threadline-count]"));
  var keys = [];
  elements.forEach(function (el) {
    var key = el.getAttribute("data-threadline-count");
    if (key && keys.indexOf(key) < 0) keys.push(key);
  });
  function label(el, n) {
    var form = n === 0 ? "zero" : n === 1 ? "one" : "many";
    var custom = el.getAttribute("data-threadline-" + form);
    if (custom) return custom.replace("{n}", String(n));
    return n === 1 ? "1 comment" : n + " comments";
  }
  var query = "query Counts($site: String!, $keys: [String!]!) { articles(site: $site, keys: $keys) { commentCount } }";
  function fill(chunk) {
    fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ query: query, variables: { site: site, keys: chunk } }),
    })
      .then(function (r) { return r.json(); })
      .then(function (r) {
        var articles = (r.data && r.data.articles) || [];
        elements.forEach(function (el) {
          var at = chunk.indexOf(el.getAttribute("data-threadline-count"));
          // An article with no thread yet (null) has no comments.
          if (at >= 0) el.textContent = label(el, articles[at] ? articles[at].commentCount : 0);
        });
      })
      .catch(function () { /* the placeholders stay as the page wrote them */ });
  }
  for (var i = 0; i < keys.length; i += 100) fill(keys.slice(i, i + 100));
})();
