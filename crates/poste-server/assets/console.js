// Console of Postes Publics: live refresh of the dashboard (server-sent events), ticking
// countdowns, the session form's duration fields, and the print button. Every page works
// without this script.
"use strict";

(function () {
  // Offset between the server's clock and this browser's, so countdowns read the server's time.
  var offsetMs = 0;

  function readOffset(grid) {
    var serverMs = Number(grid && grid.dataset.serveurMs);
    if (serverMs) {
      offsetMs = serverMs - Date.now();
    }
  }

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function countdown(secs) {
    secs = Math.max(0, secs);
    var h = Math.floor(secs / 3600), m = Math.floor((secs % 3600) / 60), s = secs % 60;
    return h > 0 ? h + ":" + pad(m) + ":" + pad(s) : pad(m) + ":" + pad(s);
  }

  function tick() {
    var now = Date.now() + offsetMs;
    document.querySelectorAll(".restant[data-fin-ms]").forEach(function (el) {
      var left = Math.ceil((Number(el.dataset.finMs) - now) / 1000);
      el.textContent = countdown(left);
    });
    document.querySelectorAll("progress[data-fin-ms]").forEach(function (bar) {
      var left = Math.max(0, (Number(bar.dataset.finMs) - now) / 1000);
      bar.value = Math.max(0, Math.min(bar.max, bar.max - left));
    });
  }

  // Replaces the tiles with fresh ones, keeping a tile whose form is being typed in and the
  // open/closed state of every tile's menus.
  function swapTiles(grid, fresh) {
    var old = {};
    grid.querySelectorAll(".tuile[data-poste]").forEach(function (tile) {
      old[tile.dataset.poste] = tile;
    });
    var nodes = [];
    fresh.childNodes.forEach(function (node) {
      var previous = node.dataset && old[node.dataset.poste];
      if (previous && previous.contains(document.activeElement) && document.activeElement !== document.body) {
        nodes.push(previous);
        return;
      }
      if (previous) {
        var before = previous.querySelectorAll("details");
        node.querySelectorAll("details").forEach(function (details, i) {
          if (before[i] && before[i].open) {
            details.open = true;
          }
        });
      }
      nodes.push(node);
    });
    grid.replaceChildren.apply(grid, nodes);
    grid.dataset.serveurMs = fresh.dataset.serveurMs;
    readOffset(grid);
    tick();
  }

  var refreshing = false, again = false;

  function refresh(status) {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    fetch("/console/tuiles", { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.redirected || response.status === 401) {
          window.location.assign("/console/connexion");
          return null;
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("tuiles");
        var grid = document.getElementById("tuiles");
        if (fresh && grid) {
          swapTiles(grid, fresh);
          document.body.dataset.miseAJour = String(Date.now());
        }
      })
      .catch(function () {
        status.textContent = "Mise à jour impossible, nouvel essai…";
      })
      .finally(function () {
        refreshing = false;
        if (again) {
          again = false;
          refresh(status);
        }
      });
  }

  function follow(status) {
    var source = new EventSource(status.dataset.flux);
    source.addEventListener("open", function () {
      status.textContent = "Mise à jour en direct";
      status.classList.remove("direct--coupe");
      // Whatever happened while the stream was down.
      refresh(status);
    });
    source.addEventListener("change", function () {
      refresh(status);
    });
    // This console session was closed (account disabled, deleted or given a new password).
    source.addEventListener("fermee", function () {
      source.close();
      window.location.assign("/console/connexion");
    });
    source.addEventListener("error", function () {
      status.textContent = "Connexion au serveur perdue, nouvel essai…";
      status.classList.add("direct--coupe");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var grid = document.getElementById("tuiles");
    if (grid) {
      readOffset(grid);
      tick();
      window.setInterval(tick, 1000);
    }
    var status = document.getElementById("etat-direct");
    if (status && window.EventSource) {
      follow(status);
    }
    // The session form: typing a duration checks « Autre durée »; checking a preset empties
    // the typed one (in sight), so what is sent is what staff last chose.
    var typed = document.getElementById("duree_autre");
    if (typed && typed.form) {
      var other = typed.form.querySelector('input[name="duree"][value="autre"]');
      typed.addEventListener("input", function () {
        if (other && typed.value.trim() !== "") {
          other.checked = true;
        }
      });
      typed.form.querySelectorAll('input[name="duree"]').forEach(function (preset) {
        preset.addEventListener("change", function () {
          if (preset.checked && preset.value !== "autre") {
            typed.value = "";
          }
        });
      });
    }
    var print = document.getElementById("imprimer");
    if (print) {
      print.addEventListener("click", function () {
        window.print();
      });
    }
  });
})();
