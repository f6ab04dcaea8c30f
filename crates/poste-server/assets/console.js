// Console of Postes Publics: live refresh of the dashboard's lists and of a workstation's page
// (server-sent events), ticking countdowns, the session form's duration fields, the space
// switcher's way back, and the print button. Every page works without this script.
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

  // Replaces a live region of the dashboard (`data-direct`: the tiles, the codes not used yet)
  // with its fresh copy. A keyed part (`data-cle`: a tile, a code's row) holding the focus, a
  // form being typed in, is kept as it is, focus and caret included; the others keep their
  // menus open or closed as they were.
  function swapRegion(region, fresh) {
    var focused = document.activeElement;
    var typing = focused && focused !== document.body && region.contains(focused);
    var partial = "partiel" in fresh.dataset;
    var old = {};
    region.querySelectorAll("[data-cle]").forEach(function (part) {
      old[part.dataset.cle] = part;
    });
    fresh.querySelectorAll("[data-cle]").forEach(function (part) {
      var previous = old[part.dataset.cle];
      if (!previous) {
        return;
      }
      if (typing && previous.contains(focused)) {
        if (partial) {
          part.remove();
        } else {
          part.replaceWith(previous);
        }
        return;
      }
      var before = previous.querySelectorAll("details");
      part.querySelectorAll("details").forEach(function (details, i) {
        if (before[i] && before[i].open) {
          details.open = true;
        }
      });
    });
    var caret = typing && typeof focused.selectionStart === "number"
      ? [focused.selectionStart, focused.selectionEnd] : null;
    if (partial) {
      // Some tiles only: each takes its old copy's place, the others stay as they are.
      Array.prototype.slice.call(fresh.querySelectorAll("[data-cle]")).forEach(function (part) {
        var previous = old[part.dataset.cle];
        if (previous) {
          previous.replaceWith(part);
        }
      });
      region.dataset.serveurMs = fresh.dataset.serveurMs;
    } else {
      region.replaceChildren.apply(region, Array.prototype.slice.call(fresh.childNodes));
      Object.keys(fresh.dataset).forEach(function (key) {
        region.dataset[key] = fresh.dataset[key];
      });
      if (!fresh.dataset.expireMs) {
        delete region.dataset.expireMs;
      }
    }
    // Moved back into the page, the part lost the focus: give it back where it was.
    if (typing && document.contains(focused) && document.activeElement !== focused) {
      focused.focus();
      if (caret) {
        try {
          focused.setSelectionRange(caret[0], caret[1]);
        } catch (e) {
          // Inputs without a caret (number) refuse it; the focus is what matters.
        }
      }
    }
  }

  // A refresh when the first code not used yet stops being valid: an expiry sends nothing on
  // the live feed.
  var expiryTimer = null;

  function refreshAtExpiry(status) {
    window.clearTimeout(expiryTimer);
    var first = Infinity;
    document.querySelectorAll("[data-expire-ms]").forEach(function (el) {
      first = Math.min(first, Number(el.dataset.expireMs));
    });
    if (first !== Infinity) {
      var wait = Math.max(0, first - (Date.now() + offsetMs)) + 500;
      // Timers longer than about 24 days fire at once.
      expiryTimer = window.setTimeout(function () {
        refresh(status);
      }, Math.min(wait, 86400000));
    }
  }

  // What the next fetch asks for: null, nothing; true, the whole dashboard; else the ids of
  // the workstations whose tiles changed (as keys; none: the codes not used yet only).
  var refreshing = false, wanted = null, lost = false;
  var LIVE = "Mise à jour en direct", FETCH_FAILED = "Mise à jour impossible, nouvel essai…";

  function want(ids) {
    if (ids === "*" || wanted === true) {
      wanted = true;
      return;
    }
    wanted = wanted || {};
    ids.forEach(function (id) {
      wanted[id] = true;
    });
  }

  // Fetches what changed (`ids`: "*" or workstation ids) and puts it in place; one fetch at a
  // time, what changes meanwhile goes in the next. A workstation's page (`data-tuile` on its
  // status) fetches its one tile, whatever changed: its feed speaks of that workstation only.
  function refresh(status, ids) {
    want(ids === undefined || lost ? "*" : ids);
    lost = false;
    if (refreshing) {
      return;
    }
    var asked = wanted;
    wanted = null;
    refreshing = true;
    var grid = document.getElementById("tuiles");
    var own = status.dataset.tuile;
    var url = own || (asked === true ? "/console/tuiles"
      : "/console/tuiles?postes=" + (Object.keys(asked).join(",") || "-")
        + "&vue=" + ((grid && grid.dataset.vue) || "complete"));
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.redirected || response.status === 401) {
          window.location.assign("/console/connexion");
          return null;
        }
        // The workstation was deleted, or moved out of this account's spaces: the page,
        // loaded again, says so.
        if (own && (response.status === 404 || response.status === 403)) {
          window.location.reload();
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
        document.querySelectorAll("[data-direct]").forEach(function (region) {
          var fresh = region.id && doc.getElementById(region.id);
          if (!fresh) {
            return;
          }
          // A tile the grid does not have yet (a workstation's first connection), or one
          // asked for and not sent back: the whole grid, in its order.
          if ("partiel" in fresh.dataset && !own) {
            var sent = {};
            fresh.querySelectorAll("[data-poste]").forEach(function (tile) {
              sent[tile.dataset.poste] = true;
              if (!region.querySelector('[data-cle="' + tile.dataset.cle + '"]')) {
                want("*");
              }
            });
            Object.keys(asked).forEach(function (id) {
              if (!sent[id] && region.querySelector('[data-poste="' + id + '"]')) {
                want("*");
              }
            });
          }
          swapRegion(region, fresh);
        });
        var grid = document.getElementById("tuiles");
        readOffset(grid);
        tick();
        refreshAtExpiry(status);
        // A fetch that failed before is behind us (a lost stream says so itself).
        if (status.textContent === FETCH_FAILED) {
          status.textContent = LIVE;
        }
        document.body.dataset.miseAJour = String(Date.now());
      })
      .catch(function () {
        status.textContent = FETCH_FAILED;
        // What was asked is lost: the next change fetches the whole dashboard.
        lost = true;
      })
      .finally(function () {
        refreshing = false;
        if (wanted !== null) {
          refresh(status, []);
        }
      });
  }

  function follow(status) {
    var source = new EventSource(status.dataset.flux);
    source.addEventListener("open", function () {
      status.textContent = LIVE;
      status.classList.remove("direct--coupe");
      // Whatever happened while the stream was down.
      refresh(status);
    });
    // « * »: anything changed; « - »: the codes not used yet; else the workstations' ids.
    source.addEventListener("change", function (event) {
      var data = String(event.data);
      refresh(status, data === "*" ? "*" : data === "-" ? [] : data.split(","));
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
    // The space switcher comes back to this page (without the script: to the dashboard).
    document.querySelectorAll("input[data-retour]").forEach(function (input) {
      input.value = window.location.pathname + window.location.search;
    });
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
    if (status) {
      refreshAtExpiry(status);
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
    // « Ouvrir un atelier »: one click ticks every free workstation of a space (a room of
    // twelve is twelve clicks otherwise); nothing is ticked until staff ask.
    document.querySelectorAll("fieldset.postes-atelier").forEach(function (group) {
      var boxes = group.querySelectorAll('input[type="checkbox"]:not([disabled])');
      if (boxes.length < 2) {
        return;
      }
      var all = document.createElement("button");
      all.type = "button";
      all.className = "discret";
      all.textContent = "Cocher tous les postes libres";
      all.addEventListener("click", function () {
        boxes.forEach(function (box) {
          box.checked = true;
        });
      });
      group.appendChild(all);
    });
    var print = document.getElementById("imprimer");
    if (print) {
      print.addEventListener("click", function () {
        window.print();
      });
    }
  });
})();
