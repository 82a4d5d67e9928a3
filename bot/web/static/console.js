// Facto console: refresh the live part of the page when the websocket says something changed.
// No inline script anywhere (the Content-Security-Policy forbids it); server-rendered HTML only.
(function () {
  "use strict";
  var live = document.getElementById("live");

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-canned]") : null;
    var box = document.getElementById("reply-text");
    if (button && box) {
      box.value = button.getAttribute("data-canned");
      box.focus();
    }
  });

  if (!live) {
    return;
  }
  var source = live.getAttribute("data-src");
  var ref = live.getAttribute("data-ref");
  var busy = false;
  var again = false;

  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    fetch(source, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.status === 401 || response.redirected) {
          window.location.assign("/console/login");
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null) {
          live.innerHTML = html; // escaped by the server's templates
        }
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var socket = new WebSocket(scheme + "//" + window.location.host + "/console/ws");
    socket.addEventListener("open", function () {
      document.body.setAttribute("data-live", "1");
      refresh(); // catch up on what changed before the socket opened
    });
    socket.addEventListener("message", function (event) {
      var data;
      try {
        data = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      // A delivery state only matters to the page showing that conversation's transcript.
      if (ref ? data.ref === ref : data.kind !== "delivery") {
        refresh();
      }
    });
    socket.addEventListener("close", function () {
      document.body.removeAttribute("data-live");
      window.setTimeout(connect, 2000);
    });
  }

  // Delivery states arrive over the socket too (sent by the outbox, then each provider
  // status callback), so nothing polls.
  connect();
})();
