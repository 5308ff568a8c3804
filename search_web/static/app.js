// Type-ahead completions for the search box: fills the <datalist> from /api/suggest.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("suggestions");
  if (!input || !list || !window.fetch) { return; }
  var timer = null;
  var last = "";
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = input.value;
      if (q === last || !q.trim()) { return; }
      last = q;
      fetch("/api/suggest?q=" + encodeURIComponent(q), { headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (data) {
          if (input.value !== q) { return; }
          while (list.firstChild) { list.removeChild(list.firstChild); }
          (data.suggestions || []).forEach(function (s) {
            var opt = document.createElement("option");
            opt.value = s;  // value, not innerHTML: suggestions are text
            list.appendChild(opt);
          });
        })
        .catch(function () { /* completions are optional */ });
    }, 150);
  });
})();
