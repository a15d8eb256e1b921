// Renders the document that #redoc names with Redoc, whose standalone
// bundle the page loads just before this file. It is a file of its own,
// not an inline script, so that the page's Content-Security-Policy can
// allow scripts from this server only.
(function () {
  "use strict";
  var el = document.getElementById("redoc");
  Redoc.init(el.getAttribute("data-spec-url"), {
    // Redoc's styles are <style> elements: they carry the page's nonce.
    nonce: el.getAttribute("data-nonce"),
    // Redoc searches in a worker made from a blob: URL, which the
    // Content-Security-Policy refuses; the side menu lists every operation.
    disableSearch: true,
    // perfect-scrollbar's style sheet is added before Redoc knows the
    // nonce, so the policy refuses it: use the browser's scroll bars.
    nativeScrollbars: true,
    expandResponses: "200",
    jsonSampleExpandLevel: 3
  }, el);
})();
