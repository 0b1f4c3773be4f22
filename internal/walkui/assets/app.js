// The page of recent resolutions: list, search, drawing and live mode.
// It talks only to the server that served it.
(function () {
  "use strict";
  var MAX = 256; // as many as the server's ring keeps by default
  var items = []; // newest first
  var selected = null;
  var list = document.getElementById("list");
  var search = document.getElementById("search");
  var view = document.getElementById("view");
  var statusEl = document.getElementById("status");
  var countEl = document.getElementById("count");
  var details = document.getElementById("details");
  var live = document.getElementById("live");
  var follow = document.getElementById("follow");
  var source = null;

  function fields(r) {
    return {name: r.name || "", type: r.type || "", client: r.client || "", rcode: r.rcode || "",
      sec: r.security || "", security: r.security || "", error: r.error || ""};
  }

  // A search is words; each must match. "field:value" matches one field
  // (name, type, client, rcode, sec), a bare word any of them.
  function matches(r, q) {
    var f = fields(r);
    var words = q.toLowerCase().split(/\s+/).filter(Boolean);
    return words.every(function (w) {
      var i = w.indexOf(":");
      if (i > 0 && f.hasOwnProperty(w.slice(0, i))) {
        return f[w.slice(0, i)].toLowerCase().indexOf(w.slice(i + 1)) >= 0;
      }
      return Object.keys(f).some(function (k) { return f[k].toLowerCase().indexOf(w) >= 0; });
    });
  }

  function badge(text, cls) {
    var s = document.createElement("span");
    s.className = "badge " + cls;
    s.textContent = text;
    return s;
  }

  function row(r, fresh) {
    var li = document.createElement("li");
    li.dataset.id = r.id;
    li.dataset.name = r.name;
    if (fresh) { li.className = "fresh"; }
    if (selected === r.id) { li.classList.add("selected"); }
    var n = document.createElement("div");
    n.className = "r-name";
    n.textContent = r.name + " " + r.type;
    var m = document.createElement("div");
    m.className = "r-meta";
    m.appendChild(badge(r.rcode, "rc-" + r.rcode));
    if (r.security) { m.appendChild(badge(r.security, "sec-" + r.security)); }
    var t = document.createElement("span");
    var when = r.when ? new Date(r.when).toLocaleTimeString() : "";
    t.textContent = [when, r.client, r.duration_ms.toFixed(1) + " ms", r.upstream_queries + " upstream"].filter(Boolean).join(" · ");
    m.appendChild(t);
    li.appendChild(n);
    li.appendChild(m);
    li.title = r.error || "";
    return li;
  }

  function render(freshID) {
    var q = search.value;
    var shown = 0;
    var frag = document.createDocumentFragment();
    items.forEach(function (r) {
      if (!matches(r, q)) { return; }
      shown++;
      frag.appendChild(row(r, r.id === freshID));
    });
    list.replaceChildren(frag);
    countEl.textContent = shown + " of " + items.length + " resolutions" + (q ? " match" : "");
  }

  function add(r) {
    if (items.some(function (x) { return x.id === r.id; })) { return; }
    items.unshift(r);
    if (items.length > MAX) { items.length = MAX; }
    render(r.id);
    if (follow.checked) { open(r.id); }
  }

  function load() {
    return fetch("api/resolutions").then(function (resp) {
      if (!resp.ok) { throw new Error(resp.status + " " + resp.statusText); }
      return resp.json();
    }).then(function (rs) {
      items = rs.slice(0, MAX);
      render();
    }).catch(function (e) { statusEl.textContent = "list failed: " + e.message; });
  }

  function open(id) {
    selected = id;
    Array.prototype.forEach.call(list.children, function (li) {
      li.classList.toggle("selected", Number(li.dataset.id) === id);
    });
    return fetch("api/resolutions/" + id + "/svg").then(function (resp) {
      if (!resp.ok) { throw new Error(resp.status === 404 ? "this resolution has left the ring" : resp.statusText); }
      return resp.text();
    }).then(function (text) {
      var doc = new DOMParser().parseFromString(text, "image/svg+xml");
      var svg = doc.documentElement;
      if (svg.nodeName !== "svg") { throw new Error("not a picture"); }
      view.replaceChildren(document.importNode(svg, true));
      view.scrollTop = 0;
      details.hidden = true;
    }).catch(function (e) {
      var p = document.createElement("p");
      p.className = "error";
      p.textContent = e.message;
      view.replaceChildren(p);
    });
  }

  function connect() {
    if (source) { source.close(); source = null; }
    if (!live.checked) {
      statusEl.textContent = "live off";
      statusEl.className = "status off";
      return;
    }
    source = new EventSource("events");
    source.addEventListener("open", function () {
      statusEl.textContent = "live";
      statusEl.className = "status live";
    });
    source.addEventListener("error", function () {
      statusEl.textContent = "reconnecting…";
      statusEl.className = "status off";
    });
    source.addEventListener("resolution", function (ev) { add(JSON.parse(ev.data)); });
    source.addEventListener("missed", function () { load(); });
  }

  list.addEventListener("click", function (ev) {
    var li = ev.target.closest("li");
    if (li) { open(Number(li.dataset.id)); }
  });
  search.addEventListener("input", function () { render(); });
  live.addEventListener("change", function () { connect(); if (live.checked) { load(); } });

  document.getElementById("trace-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var name = document.getElementById("trace-name").value.trim();
    var type = document.getElementById("trace-type").value.trim() || "A";
    if (!name) { return; }
    statusEl.textContent = "resolving " + name + "…";
    fetch("../debug/trace?name=" + encodeURIComponent(name) + "&type=" + encodeURIComponent(type)).then(function (resp) {
      if (!resp.ok) { return resp.text().then(function (t) { throw new Error(t.trim()); }); }
      return load();
    }).then(function () {
      var r = items.filter(function (x) { return x.name.toLowerCase() === (name.replace(/\.?$/, ".")).toLowerCase(); })[0];
      if (r) { open(r.id); }
      statusEl.textContent = live.checked ? "live" : "live off";
    }).catch(function (e) { statusEl.textContent = "resolve failed: " + e.message; });
  });

  // Click a part of a drawing for its details (the element's title).
  view.addEventListener("click", function (ev) {
    var el = ev.target.closest("g");
    while (el && !el.querySelector(":scope > title")) {
      el = el.parentElement ? el.parentElement.closest("g") : null;
    }
    if (!el) { details.hidden = true; return; }
    var prev = view.querySelector(".selected");
    if (prev) { prev.classList.remove("selected"); }
    el.classList.add("selected");
    details.textContent = el.querySelector(":scope > title").textContent;
    details.hidden = false;
  });
  details.addEventListener("click", function () { details.hidden = true; });

  load().then(connect);
})();
