// The dashboard's live lists: when the server says the merchant's invoices or money to review
// changed (/console/dashboard/ws, the console's pattern), read this page again and swap the
// list in. No polling; several changes in a burst give one read (busy/again), at most one a
// second, so a campaign paying many invoices does not storm the server.
(function () {
  "use strict";
  var lists = document.querySelectorAll("[data-live]");
  if (!lists.length) {
    return;
  }
  var busy = false;
  var again = false;
  var GAP_MS = 1000;

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html"); // scripts never run
    lists.forEach(function (list) {
      var next = fresh.getElementById(list.id);
      if (next) {
        list.innerHTML = next.innerHTML; // escaped by the server's templates
      }
    });
    document.body.setAttribute("data-refreshed", String(Date.now()));
  }

  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.status === 401 || response.redirected) {
          window.location.assign("/console/login");
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null) {
          swap(html);
        }
      })
      .catch(function () {})
      .then(function () {
        window.setTimeout(function () {
          busy = false;
          if (again) {
            again = false;
            refresh();
          }
        }, GAP_MS);
      });
  }

  var wanted = {};
  lists.forEach(function (list) { wanted[list.getAttribute("data-live")] = true; });

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var socket = new WebSocket(scheme + "//" + window.location.host + "/console/dashboard/ws");
    var opened = false;
    socket.addEventListener("open", function () {
      if (opened) { return; }
      opened = true;
      document.body.setAttribute("data-live-dashboard", "1");
    });
    socket.addEventListener("message", function (event) {
      var data;
      try {
        data = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (wanted[data.ref]) {
        refresh();
      }
    });
    socket.addEventListener("close", function () {
      document.body.removeAttribute("data-live-dashboard");
      window.setTimeout(function () { connect(); refresh(); }, 2000); // catch up after a gap
    });
  }
  connect();
})();
