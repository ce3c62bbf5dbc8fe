// Progressive enhancement only: the pages already show the time left; this keeps it ticking.
(function () {
  "use strict";
  function span(s) {
    s = Math.floor(Math.abs(s));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d) return d + (d === 1 ? " day " : " days ") + h + " h";
    if (h) return h + " h " + m + " min";
    return m ? m + " min" : s + " s";
  }
  document.addEventListener("DOMContentLoaded", function () {
    var els = document.querySelectorAll("[data-countdown-for]");
    if (!els.length) return;
    // count from the server's clock (it may be a moved test clock), not the browser's
    var server = Date.parse(document.body.getAttribute("data-now") || "");
    var skew = isNaN(server) ? 0 : server - Date.now();
    function tick() {
      var now = Date.now() + skew;
      els.forEach(function (el) {
        var left = (Date.parse(el.getAttribute("data-countdown-for")) - now) / 1000;
        el.textContent = left > 0 ? span(left) + " left" : "ended " + span(left) + " ago";
      });
    }
    setInterval(tick, 1000);
  });
})();
