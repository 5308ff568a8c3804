// The filters ("Bộ lọc") are a <details>, closed on phones; on wider screens style.css shows
// them inline through ::details-content. A browser without it gets them opened here instead.
(function () {
  "use strict";
  var filters = document.getElementById("filters");
  var styled = window.CSS && CSS.supports && CSS.supports("selector(::details-content)");
  if (filters && !styled && window.matchMedia && window.matchMedia("(min-width: 40.01rem)").matches) {
    filters.open = true;
  }
})();

// Type-ahead for the search box: a list the page controls (ARIA combobox), filled from
// /api/suggest.  Up/Down move, Enter searches the highlighted phrase, Escape closes; the
// part already typed is plain and the completion bold.  Suggestions are set as text, never HTML.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("suggestions");
  if (!input || !list || !window.fetch) { return; }
  var timer = null;
  var asked = "";
  var active = -1;

  function base(c) {  // "Ặ" -> "a", "đ" -> "d"
    return c.toLowerCase().normalize("NFD")[0].replace("đ", "d");
  }

  function options() { return list.querySelectorAll("li"); }

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(i) {
    var items = options();
    if (!items.length) { return; }
    active = (i + items.length) % items.length;
    items.forEach(function (li, k) { li.setAttribute("aria-selected", k === active ? "true" : "false"); });
    input.setAttribute("aria-activedescendant", items[active].id);
  }

  function choose(text) {
    input.value = text;
    close();
    if (input.form) { input.form.submit(); }
  }

  function show(typed, suggestions) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    suggestions.forEach(function (s, k) {
      var li = document.createElement("li");
      li.id = "suggestion-" + k;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      var same = 0;  // how much of the suggestion is what was typed (case and diacritics aside)
      while (same < typed.length && same < s.length && base(typed[same]) === base(s[same])) { same++; }
      li.appendChild(document.createTextNode(s.slice(0, same)));
      var rest = document.createElement("b");
      rest.textContent = s.slice(same);
      li.appendChild(rest);
      li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(s); });
      list.appendChild(li);
    });
    active = -1;
    list.hidden = !suggestions.length;
    input.setAttribute("aria-expanded", suggestions.length ? "true" : "false");
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = input.value;
      if (!q.trim()) { close(); return; }
      if (q === asked) { return; }
      asked = q;
      fetch("/api/suggest?q=" + encodeURIComponent(q), { headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (data) { if (input.value === q) { show(q, data.suggestions || []); } })
        .catch(function () { /* completions are optional */ });
    }, 120);
  });

  input.addEventListener("keydown", function (e) {
    var open = !list.hidden;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!open) { return; }
      e.preventDefault();
      highlight(active + (e.key === "ArrowDown" ? 1 : (active < 0 ? 0 : -1)));
    } else if (e.key === "Enter" && open && active >= 0) {
      e.preventDefault();
      choose(options()[active].textContent);
    } else if (e.key === "Escape" && open) {
      e.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", close);

  // "/" anywhere but in a field puts the cursor in the search box, as on most search sites.
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) { return; }
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) { return; }
    e.preventDefault();
    input.focus();
    input.select();
  });
})();
