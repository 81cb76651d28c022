/*! Threadline embed: puts a site's comment thread into any page, in an iframe on the Threadline origin.
 *
 *   <div id="threadline"></div>
 *   <script src="https://THREADLINE/embed.js" data-site="SITE" data-article="KEY" async></script>
 *
 * Optional: data-theme="light|dark" (default: the reader's system), data-title, data-url (default: this page),
 * data-sso: a token the site signed for its logged-in user (HS256 JWT with sub, name, exp, moderator), handed
 * to the thread by postMessage once it asks, never put in a URL; an empty data-sso signs the reader out.
 * It sets no cookie and reads nothing from the page but these attributes and the page's address.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) {
    var all = document.querySelectorAll('script[src*="embed.js"][data-site]');
    script = all[all.length - 1];
  }
  if (!script || script.getAttribute("data-threadline-mounted")) return;
  script.setAttribute("data-threadline-mounted", "1");

  var origin = new URL(script.src, location.href).origin;
  var data = script.dataset;
  var params = new URLSearchParams({ site: data.site || "", article: data.article || "" });
  if (data.theme === "light" || data.theme === "dark") params.set("theme", data.theme);
  if (data.title) params.set("title", data.title);
  // Only an http(s) address becomes the comments' permalinks (the server and the thread check it again).
  var page = data.url || location.href.split("#")[0];
  if (/^https?:\/\/[^\s\\]+$/i.test(page)) params.set("url", page);
  var permalink = /^#comment-([A-Za-z0-9_-]+)$/.exec(location.hash);
  var hash = permalink ? permalink[0] : "";

  var frame = document.createElement("iframe");
  frame.src = origin + "/embed/thread?" + params.toString() + hash;
  frame.title = "Comments";
  frame.setAttribute("scrolling", "no");
  frame.style.cssText = "display:block;width:100%;min-width:280px;height:480px;border:0;overflow:hidden;color-scheme:normal";

  var mount = document.getElementById("threadline");
  if (!mount) {
    mount = document.createElement("div");
    script.parentNode.insertBefore(mount, script.nextSibling);
  }
  mount.appendChild(frame);

  // Only the thread's own frame, on the Threadline origin, may size it.
  window.addEventListener("message", function (e) {
    if (e.origin !== origin || e.source !== frame.contentWindow) return;
    var m = e.data;
    if (!m || typeof m !== "object") return;
    if (m.type === "threadline:ready" && data.sso !== undefined) {
      frame.contentWindow.postMessage({ type: "threadline:sso", token: data.sso }, origin);
    } else if (m.type === "threadline:resize" && typeof m.height === "number" && m.height > 0 && m.height < 1e6) {
      frame.style.height = Math.ceil(m.height) + "px";
    } else if (m.type === "threadline:scroll" && typeof m.top === "number") {
      // A permalinked comment: bring it into view on the embedding page.
      window.scrollTo({ top: frame.getBoundingClientRect().top + window.scrollY + m.top - 80, behavior: "smooth" });
    }
  });
})();
