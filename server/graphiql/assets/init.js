// Threadline: starts GraphiQL on #graphiql. Loaded as a same-origin script so
// the page needs no inline script; its settings come from the element's
// data-* attributes, which the Go handler fills in.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var cfg = root.dataset;
  var fetcher = GraphiQL.createFetcher({ url: cfg.endpoint });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: cfg.defaultQuery,
      isHeadersEditorEnabled: true,
      // Headers often hold a bearer token: keep them out of localStorage.
      shouldPersistHeaders: false,
    })
  );
})();
