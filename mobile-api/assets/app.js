// The phone app's script (docs/phone-app.md). Served as /app.js by mobile-api; loaded
// with the page's CSP nonce on the wizard's phone pages and on /my.
//
// 1. On a page with a `#issued-declaration` data block (the wizard's result page), keep
//    that declaration on the device (localStorage): id, edit token, QR text and SVG,
//    expiry, arrival date, language. An edit issues a new QR for the same id: it
//    replaces the kept one.
// 2. Forget declarations whose QR has expired (the end of the arrival date in Japan plus
//    the grace the issuer gives, `expires_at`), or whose arrival date is two days gone.
// 3. On /my (`#my-list`), list the kept declarations with their QR (inline SVG), Change
//    (a form POST of id and edit token to /declarations/edit) and Delete (the API's
//    DELETE with the edit token, then forget it).
// 4. Register the service worker (/sw.js) that keeps the shell for offline use.
//
// The edit token never goes into a URL, a log or the console: only into the POST body
// of the edit form and the Authorization header of the DELETE.
(function () {
  "use strict";

  var KEY = "egate.declarations.v1";
  // Limits on what is read back from storage or a page (storage is the device's, but a
  // bad entry must not break the list).
  var MAX_KEPT = 20;
  var MAX_SVG = 262144;
  var MAX_TOKEN = 4096;
  var LANGS = ["ja", "en", "zh-Hans", "zh-Hant", "ko"];
  var DAY_MS = 86400000;
  var JST_MS = 9 * 3600000;

  function isStr(v, max) {
    return typeof v === "string" && v.length > 0 && v.length <= max;
  }

  // `expires_at`: unix seconds (the result page's data block) or RFC 3339.
  function expiryMs(d) {
    if (typeof d.expires_at === "number" && isFinite(d.expires_at) && d.expires_at > 0) {
      return d.expires_at * 1000;
    }
    if (isStr(d.expires_at, 64)) return Date.parse(d.expires_at);
    return NaN;
  }

  function valid(d) {
    return !!d && typeof d === "object" &&
      isStr(d.declaration_id, 64) && /^[A-Za-z0-9_-]+$/.test(d.declaration_id) &&
      isStr(d.edit_token, 256) && /^[A-Za-z0-9_-]+$/.test(d.edit_token) &&
      isStr(d.token, MAX_TOKEN) && d.token.indexOf("CD1:") === 0 &&
      isStr(d.qr_svg, MAX_SVG) && d.qr_svg.indexOf("<svg") === 0 &&
      !isNaN(expiryMs(d)) &&
      isStr(d.arrival_date, 10) && /^\d{4}-\d{2}-\d{2}$/.test(d.arrival_date) &&
      LANGS.indexOf(d.lang) >= 0;
  }

  function load() {
    try {
      var list = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      return Array.isArray(list) ? list.filter(valid) : [];
    } catch (e) {
      return [];
    }
  }

  function save(list) {
    try {
      window.localStorage.setItem(KEY, JSON.stringify(list));
      return true;
    } catch (e) {
      return false;
    }
  }

  // Today's date in Japan (arrival dates are Japan dates), as YYYY-MM-DD.
  function japanToday(now) {
    return new Date(now + JST_MS).toISOString().slice(0, 10);
  }

  function addDays(date, n) {
    var p = date.split("-");
    var t = Date.UTC(+p[0], +p[1] - 1, +p[2]) + n * DAY_MS;
    return new Date(t).toISOString().slice(0, 10);
  }

  function expired(d, now) {
    return now >= expiryMs(d) || japanToday(now) > addDays(d.arrival_date, 1);
  }

  // Keep the current list only: drop expired entries (and say whether any went).
  function current() {
    var now = Date.now();
    var all = load();
    var kept = all.filter(function (d) { return !expired(d, now); });
    if (kept.length !== all.length) save(kept);
    return kept;
  }

  function keep(d) {
    var list = current().filter(function (x) { return x.declaration_id !== d.declaration_id; });
    list.unshift({
      declaration_id: d.declaration_id,
      edit_token: d.edit_token,
      token: d.token,
      qr_svg: d.qr_svg,
      expires_at: d.expires_at,
      arrival_date: d.arrival_date,
      lang: d.lang
    });
    return save(list.slice(0, MAX_KEPT));
  }

  function forget(id) {
    save(load().filter(function (x) { return x.declaration_id !== id; }));
  }

  // 1. The declaration a result page hands over.
  function captureIssued() {
    var block = document.getElementById("issued-declaration");
    if (!block) return;
    var d;
    try {
      d = JSON.parse(block.textContent);
    } catch (e) {
      return;
    }
    if (!valid(d) || !keep(d)) return;
    // The language the declaration was made in becomes the device's choice (as the
    // language links of /my make it), so that /my speaks it too.
    document.cookie = "egate_lang=" + d.lang + "; path=/; max-age=31536000; samesite=lax" +
      (location.protocol === "https:" ? "; secure" : "");
    var note = document.getElementById("kept-on-device");
    if (note) note.hidden = false;
  }

  // The QR SVG from storage, rebuilt element by element from a fixed list of elements
  // and attributes (the issuer's SVG uses no other): nothing else from storage reaches
  // the page as markup.
  var SVG_NS = "http://www.w3.org/2000/svg";
  var SVG_ELEMENTS = { svg: 1, rect: 1, path: 1, g: 1 };
  var SVG_ATTRS = { viewBox: 1, width: 1, height: 1, x: 1, y: 1, d: 1, fill: 1, "shape-rendering": 1 };

  function qrElement(svgText, label) {
    var doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
    var src = doc.documentElement;
    if (!src || src.localName !== "svg" || src.namespaceURI !== SVG_NS) return null;
    function copy(node) {
      if (!SVG_ELEMENTS[node.localName]) return null;
      var out = document.createElementNS(SVG_NS, node.localName);
      for (var i = 0; i < node.attributes.length; i++) {
        var a = node.attributes[i];
        if (SVG_ATTRS[a.name]) out.setAttribute(a.name, a.value);
      }
      for (var c = node.firstElementChild; c; c = c.nextElementSibling) {
        var cc = copy(c);
        if (cc) out.appendChild(cc);
      }
      return out;
    }
    var svg = copy(src);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
    svg.setAttribute("focusable", "false");
    return svg;
  }

  function messages() {
    var block = document.getElementById("app-messages");
    try {
      return JSON.parse(block.textContent);
    } catch (e) {
      return {};
    }
  }

  function fill(text, date) {
    return String(text || "").replace("{date}", date);
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function dateText(lang, iso) {
    var p = iso.split("-");
    var t = Date.UTC(+p[0], +p[1] - 1, +p[2]);
    try {
      return new Intl.DateTimeFormat(lang, { dateStyle: "long", timeZone: "UTC" }).format(new Date(t));
    } catch (e) {
      return iso;
    }
  }

  function timeText(lang, ms) {
    try {
      // In Japan's time, where the gate is (dateStyle cannot take a time zone name).
      return new Intl.DateTimeFormat(lang, {
        year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
        timeZone: "Asia/Tokyo", timeZoneName: "short"
      }).format(new Date(ms));
    } catch (e) {
      return new Date(ms).toISOString();
    }
  }

  // 3. The "My declarations" list.
  function renderList(root, msg, lang) {
    var list = current();
    while (root.firstChild) root.removeChild(root.firstChild);
    if (list.length === 0) {
      root.appendChild(el("p", "empty", msg.empty));
    }
    list.forEach(function (d) {
      var arrival = dateText(lang, d.arrival_date);
      var card = el("article", "decl");
      card.setAttribute("data-id", d.declaration_id);
      var hid = "h-" + d.declaration_id;
      card.setAttribute("aria-labelledby", hid);
      var h = el("h2", null, fill(msg.arrival, arrival));
      h.id = hid;
      card.appendChild(h);
      var qr = el("div", "qr");
      var svg = qrElement(d.qr_svg, fill(msg.qr_label, arrival));
      if (svg) qr.appendChild(svg);
      card.appendChild(qr);
      card.appendChild(el("p", "expires", fill(msg.expires, timeText(lang, expiryMs(d)))));
      card.appendChild(el("p", "muted", msg.show));
      var actions = el("div", "actions");
      var change = el("button", "secondary change", msg.change);
      change.type = "button";
      var del = el("button", "secondary delete", msg.delete);
      del.type = "button";
      actions.appendChild(change);
      actions.appendChild(del);
      card.appendChild(actions);
      var confirmBox = el("div", "confirm");
      confirmBox.hidden = true;
      confirmBox.appendChild(el("p", null, msg.delete_confirm));
      var yes = el("button", "danger delete-yes", msg.delete_yes);
      yes.type = "button";
      var no = el("button", "secondary delete-no", msg.delete_no);
      no.type = "button";
      confirmBox.appendChild(yes);
      confirmBox.appendChild(no);
      card.appendChild(confirmBox);
      change.addEventListener("click", function () { edit(d, msg, lang); });
      del.addEventListener("click", function () {
        confirmBox.hidden = false;
        actions.hidden = true;
        no.focus();
      });
      no.addEventListener("click", function () {
        confirmBox.hidden = true;
        actions.hidden = false;
        del.focus();
      });
      yes.addEventListener("click", function () { erase(d, msg, root, lang); });
      root.appendChild(card);
    });
    root.setAttribute("data-count", String(list.length));
    root.setAttribute("data-state", "ready");
    if (window.performance && performance.now) {
      root.setAttribute("data-rendered-ms", String(Math.round(performance.now())));
    }
  }

  function status(text) {
    var s = document.getElementById("status");
    if (!s) return;
    s.textContent = text;
    if (s.scrollIntoView) s.scrollIntoView({ block: "nearest" });
  }

  // Change: the wizard's edit entry, by POST (id and token in the body, never a URL).
  function edit(d, msg, lang) {
    if (navigator.onLine === false) {
      status(msg.offline);
      return;
    }
    var f = document.createElement("form");
    f.method = "post";
    f.action = "/declarations/edit";
    f.hidden = true;
    [["declaration_id", d.declaration_id], ["edit_token", d.edit_token], ["lang", lang]].forEach(function (p) {
      var i = document.createElement("input");
      i.type = "hidden";
      i.name = p[0];
      i.value = p[1];
      f.appendChild(i);
    });
    document.body.appendChild(f);
    f.submit();
  }

  // Delete: erase on the server, then forget here. 404 means it is already gone there.
  function erase(d, msg, root, lang) {
    if (navigator.onLine === false) {
      status(msg.offline);
      return;
    }
    fetch("/v1/declarations/" + encodeURIComponent(d.declaration_id), {
      method: "DELETE",
      headers: { "Authorization": "Bearer " + d.edit_token },
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer"
    }).then(function (r) {
      if (r.status === 204 || r.status === 404) {
        forget(d.declaration_id);
        renderList(root, msg, lang);
        status(msg.deleted);
        var main = document.getElementById("main");
        if (main) main.focus();
      } else {
        status(msg.failed);
      }
    }, function () {
      status(navigator.onLine === false ? msg.offline : msg.failed);
    });
  }

  function start() {
    captureIssued();
    var root = document.getElementById("my-list");
    if (root) {
      var lang = document.documentElement.lang || "en";
      renderList(root, messages(), lang);
      window.addEventListener("storage", function (e) {
        if (e.key === KEY) renderList(root, messages(), lang);
      });
    } else {
      current();
    }
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/sw.js").catch(function () { /* offline use only */ });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
